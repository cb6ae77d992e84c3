"use client";

import { useApolloClient, useMutation, useQuery } from "@apollo/client/react";
import { CombinedGraphQLErrors } from "@apollo/client/errors";
import { useId, useState } from "react";
import { toast } from "sonner";

import { typed } from "@/components/bookings/use-book";
import { graphql } from "@/gql";
import type { WebhookEndpointFieldsFragment as Endpoint, WebhookEndpointsQuery } from "@/gql/graphql";
import { utcTime } from "@/lib/format";
import { useSeededQuery } from "@/lib/hooks";

import { WebhookEndpointFields, WebhookEndpointNow, WebhookEndpoints } from "./documents";
import { DeliveryList } from "./webhook-deliveries";
import { ALL_EVENTS, EndpointForm } from "./webhook-endpoint-form";
import { OneTimeSecret, type ShownSecret } from "./webhook-secret";

const SetEnabled = graphql(`
  mutation SetWebhookEndpointEnabled($id: UUID!, $enabled: Boolean!) {
    updateWebhookEndpoint(id: $id, input: { enabled: $enabled }) { ...WebhookEndpointFields }
  }
`);

const DeleteEndpoint = graphql(`
  mutation DeleteWebhookEndpoint($id: UUID!) { deleteWebhookEndpoint(id: $id) }
`);

// Like creating, the answer carries the secret: kept out of the cache.
const RotateSecret = graphql(`
  mutation RotateWebhookSecret($id: UUID!) {
    rotateWebhookSecret(id: $id) { secret endpoint { ...WebhookEndpointFields } }
  }
`);

const why = (error: unknown) =>
  CombinedGraphQLErrors.is(error) ? error.errors.map((e) => e.message).join("; ") : "the server did not answer";

function EventTypes({ types }: { types: readonly string[] }) {
  return (
    <div className="chips" style={{ marginTop: 0 }}>
      {types.map((t) => <span key={t} className="chip">{t === ALL_EVENTS ? "all events" : t}</span>)}
    </div>
  );
}

/** Enabled or not, and why not; failing since when. */
function EndpointState({ endpoint }: { endpoint: Endpoint }) {
  return (
    <>
      <span className={`status ${endpoint.enabled ? "SUCCEEDED" : "CANCELLED"}`} data-testid="endpoint-state">
        {endpoint.enabled ? "enabled" : "disabled"}
      </span>
      {!endpoint.enabled && endpoint.disabledReason ? (
        <div className="muted" data-testid="disabled-reason">
          {endpoint.disabledReason}{endpoint.disabledAt ? ` (${utcTime(endpoint.disabledAt)})` : ""}
        </div>
      ) : null}
      {endpoint.failingSince ? (
        <div className="form-error" data-testid="failing-since">every attempt failing since {utcTime(endpoint.failingSince)}</div>
      ) : null}
      <div className="muted">{endpoint.parallel ? "in parallel" : "in order, one at a time"}</div>
    </>
  );
}

/** One endpoint: its actions (edit, rotate the secret, delete) and its deliveries. */
function EndpointDetail({
  endpoint: listed,
  onSecret,
  onClose,
}: {
  endpoint: Endpoint;
  onSecret: (shown: ShownSecret) => void;
  onClose: () => void;
}) {
  const uid = useId();
  const client = useApolloClient();
  const [editing, setEditing] = useState(false);
  // The endpoint itself follows its deliveries (failing since, switched off after too long).
  const now = useQuery(WebhookEndpointNow, {
    variables: { id: listed.id },
    fetchPolicy: "cache-and-network",
    pollInterval: 5_000,
  });
  const [rotate, rotating] = useMutation(RotateSecret, { fetchPolicy: "no-cache" });
  const [remove, removing] = useMutation(DeleteEndpoint, {
    update(cache) {
      cache.evict({ id: cache.identify({ __typename: "WebhookEndpoint", id: listed.id }) });
      cache.gc();
    },
  });
  const gone = now.data !== undefined && now.data.webhookEndpoint === null;
  const endpoint = now.data?.webhookEndpoint ?? listed;

  if (gone) {
    return (
      <section className="panel" aria-labelledby={`${uid}-title`}>
        <h2 id={`${uid}-title`} style={{ marginTop: 0 }}>{listed.url}</h2>
        <p className="muted">This endpoint no longer exists (another admin deleted it).</p>
        <button type="button" className="secondary" onClick={onClose}>Close</button>
      </section>
    );
  }

  return (
    <section className="panel" aria-labelledby={`${uid}-title`} data-testid="endpoint-detail">
      <h2 id={`${uid}-title`} style={{ marginTop: 0 }}>Endpoint <code>{endpoint.url}</code></h2>
      {endpoint.description ? <p className="muted">{endpoint.description}</p> : null}
      <p className="muted">
        Created {utcTime(endpoint.createdAt)}, changed {utcTime(endpoint.updatedAt)}
        {endpoint.previousSecretExpiresAt ? `; the secret before the last rotation signs too until ${utcTime(endpoint.previousSecretExpiresAt)}` : ""}.
      </p>
      <div className="row">
        <button type="button" className="secondary" aria-expanded={editing} onClick={() => setEditing(!editing)}>Edit</button>
        <button
          type="button"
          className="secondary"
          disabled={rotating.loading}
          onClick={async () => {
            if (!window.confirm(`A new signing secret for ${endpoint.url}? The old one goes on signing beside it for 24 hours.`)) return;
            try {
              const result = await rotate({ variables: { id: endpoint.id } });
              const made = result.data?.rotateWebhookSecret;
              if (!made) return;
              client.cache.writeFragment({ fragment: WebhookEndpointFields, data: made.endpoint });
              onSecret({ endpointUrl: made.endpoint.url, secret: made.secret, rotated: true, previousExpiresAt: made.endpoint.previousSecretExpiresAt ?? null });
            } catch (error) {
              toast.error(`The secret was not rotated: ${why(error)}`);
            }
          }}
        >
          Rotate secret
        </button>
        <button
          type="button"
          className="danger"
          disabled={removing.loading}
          onClick={async () => {
            if (!window.confirm(`Delete ${endpoint.url} with all its deliveries and their log? Receivers get nothing more.`)) return;
            try {
              await remove({ variables: { id: endpoint.id } });
              toast.success(`${endpoint.url} deleted`);
              onClose();
            } catch (error) {
              toast.error(`It was not deleted: ${why(error)}`);
            }
          }}
        >
          Delete
        </button>
        <button type="button" className="link-button" onClick={onClose}>Close</button>
      </div>
      {editing ? (
        <EndpointForm
          endpoint={endpoint}
          onDone={() => {
            setEditing(false);
            toast.success("Endpoint saved");
          }}
        />
      ) : null}
      <DeliveryList endpointId={endpoint.id} onRefresh={() => void now.refetch().catch(() => {})} />
    </section>
  );
}

/**
 * Webhook endpoints: the list, each one's state and switch; one endpoint's deliveries; a
 * form for a new one. A signing secret (new or rotated) is shown once, here.
 */
export function WebhooksPanel({ initial }: { initial: WebhookEndpointsQuery }) {
  const uid = useId();
  const { data, error, refetch } = useSeededQuery(WebhookEndpoints, {}, initial);
  const [selected, setSelected] = useState<string | null>(null);
  const [secret, setSecret] = useState<ShownSecret | null>(null);
  const [setEnabled] = useMutation(SetEnabled, {
    onError: (e) => toast.error(`The endpoint was not switched: ${why(e)}`),
  });
  const endpoints = (data ?? initial).webhookEndpoints;
  const chosen = endpoints.find((e) => e.id === selected) ?? null;

  return (
    <>
      {secret ? <OneTimeSecret shown={secret} onHide={() => setSecret(null)} /> : null}
      <section className="panel" aria-labelledby={`${uid}-endpoints`}>
        <div className="row" style={{ justifyContent: "space-between" }}>
          <h2 id={`${uid}-endpoints`} style={{ marginTop: 0 }}>Endpoints</h2>
          <button type="button" className="secondary" onClick={() => refetch().catch(() => toast.error("Could not refresh: the server did not answer"))}>Refresh</button>
        </div>
        {error ? <p className="form-error" role="status">Could not refresh the endpoints ({why(error)}); this is what was found earlier.</p> : null}
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">URL</th><th scope="col">Event types</th><th scope="col">State</th>
                <th scope="col">Created</th><th scope="col">On</th><th scope="col"><span className="visually-hidden">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              {endpoints.length ? endpoints.map((e) => (
                <tr key={e.id} data-testid="endpoint-row" data-endpoint-id={e.id} className={e.id === selected ? "selected" : undefined}>
                  <td><code className="url">{e.url}</code>{e.description ? <div className="muted">{e.description}</div> : null}</td>
                  <td><EventTypes types={e.eventTypes} /></td>
                  <td><EndpointState endpoint={e} /></td>
                  <td>{utcTime(e.createdAt)}</td>
                  <td>
                    <input
                      type="checkbox"
                      role="switch"
                      aria-label={`${e.url} enabled`}
                      checked={e.enabled}
                      onChange={(event) => {
                        const enabled = event.target.checked;
                        void setEnabled({
                          variables: { id: e.id, enabled },
                          optimisticResponse: { updateWebhookEndpoint: typed("WebhookEndpoint", { ...e, enabled }) },
                        }).catch(() => {});
                      }}
                    />
                  </td>
                  <td>
                    <button
                      type="button"
                      className="link-button"
                      aria-pressed={e.id === selected}
                      aria-label={`Deliveries to ${e.url}`}
                      onClick={() => setSelected(e.id === selected ? null : e.id)}
                    >
                      Deliveries
                    </button>
                  </td>
                </tr>
              )) : <tr><td colSpan={6} className="muted">No endpoints yet: add one below.</td></tr>}
            </tbody>
          </table>
        </div>
      </section>
      {chosen ? (
        <EndpointDetail
          key={chosen.id}
          endpoint={chosen}
          onSecret={setSecret}
          onClose={() => setSelected(null)}
        />
      ) : null}
      <EndpointForm
        endpoint={null}
        onCreated={(endpoint, made) => {
          setSecret({ endpointUrl: endpoint.url, secret: made, rotated: false, previousExpiresAt: null });
          setSelected(endpoint.id);
          refetch().catch(() => toast.error("Added; the list could not be refreshed, reload the page"));
        }}
      />
    </>
  );
}
