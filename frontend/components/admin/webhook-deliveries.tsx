"use client";

import { useMutation, useQuery } from "@apollo/client/react";
import { CombinedGraphQLErrors } from "@apollo/client/errors";
import { useEffect, useId, useState } from "react";
import { toast } from "sonner";

import { graphql } from "@/gql";
import type { WebhookDeliveryFieldsFragment as Delivery, WebhookDeliveryStatus } from "@/gql/graphql";
import { utcTime } from "@/lib/format";

import { WebhookDeliveries } from "./documents";

const Redeliver = graphql(`
  mutation RedeliverWebhook($deliveryId: UUID!) {
    redeliverWebhook(deliveryId: $deliveryId) { ...WebhookDeliveryFields }
  }
`);

const PAGE = 20;
/** While a delivery is under way the list follows it closely; otherwise new ones show within seconds. */
const BUSY_POLL_MS = 1_000;
const IDLE_POLL_MS = 5_000;
const BODY_CHARS = 200;

const STATUSES: { value: WebhookDeliveryStatus; text: string }[] = [
  { value: "PENDING", text: "Pending" },
  { value: "DELIVERING", text: "Delivering" },
  { value: "SUCCEEDED", text: "Succeeded" },
  { value: "FAILED", text: "Failed" },
];

function truncated(body: string | null | undefined): string {
  if (!body) return "";
  return body.length > BODY_CHARS ? `${body.slice(0, BODY_CHARS)}…` : body;
}

const why = (error: unknown) =>
  CombinedGraphQLErrors.is(error) ? error.errors.map((e) => e.message).join("; ") : "the server did not answer";

/** One delivery, its attempts behind a button, and "Redeliver". */
function DeliveryRow({ delivery, onRedelivered }: { delivery: Delivery; onRedelivered: () => void }) {
  const uid = useId();
  const [open, setOpen] = useState(false);
  const [redeliver, { loading }] = useMutation(Redeliver);
  const name = `${delivery.eventType} #${delivery.eventSequence}`;
  return (
    <>
      <tr data-testid="delivery-row" data-status={delivery.status} data-event-id={delivery.eventId}>
        <td><code>{delivery.eventType}</code><div className="muted">#{delivery.eventSequence}</div></td>
        <td>
          <span className={`status ${delivery.status}`} data-testid="delivery-status">{delivery.status}</span>
          {delivery.status === "PENDING" && delivery.nextAttemptAt ? (
            <div className="muted">next try {utcTime(delivery.nextAttemptAt, { seconds: true })}</div>
          ) : null}
        </td>
        <td data-testid="delivery-attempts">{delivery.attemptCount}</td>
        <td>
          {delivery.lastStatusCode != null ? <span data-testid="delivery-last-code">HTTP {delivery.lastStatusCode}</span> : null}
          {delivery.lastError ? <div className="form-error">{delivery.lastError}</div> : null}
          {delivery.lastStatusCode == null && !delivery.lastError ? <span className="muted">—</span> : null}
        </td>
        <td>
          {utcTime(delivery.createdAt, { seconds: true })}
          {delivery.finishedAt ? <div className="muted">done {utcTime(delivery.finishedAt, { seconds: true })}</div> : null}
        </td>
        <td>
          <div className="row" style={{ gap: "0.5rem" }}>
            <button
              type="button"
              className="link-button"
              aria-expanded={open}
              aria-controls={`${uid}-attempts`}
              aria-label={`Attempts of ${name}`}
              disabled={delivery.attempts.length === 0}
              onClick={() => setOpen(!open)}
            >
              {open ? "Hide attempts" : `Attempts (${delivery.attempts.length})`}
            </button>
            <button
              type="button"
              className="secondary"
              aria-label={`Redeliver ${name}`}
              // One being sent is left as it is by the API.
              disabled={loading || delivery.status === "DELIVERING"}
              onClick={async () => {
                try {
                  await redeliver({ variables: { deliveryId: delivery.id } });
                  toast.info(`${name} is being sent again`);
                  onRedelivered();
                } catch (error) {
                  toast.error(`It was not sent again: ${why(error)}`);
                }
              }}
            >
              Redeliver
            </button>
          </div>
        </td>
      </tr>
      {open ? (
        <tr id={`${uid}-attempts`}>
          <td colSpan={6}>
            <table aria-label={`Attempts of ${name}`} data-testid="attempts">
              <thead>
                <tr><th scope="col">When</th><th scope="col">Status</th><th scope="col">Latency</th><th scope="col">Answer</th></tr>
              </thead>
              <tbody>
                {delivery.attempts.map((a) => (
                  <tr key={a.id} data-testid="attempt-row">
                    <td>{utcTime(a.attemptedAt, { seconds: true })}</td>
                    <td data-testid="attempt-status">{a.statusCode ?? "no answer"}</td>
                    <td>{a.latencyMs.toLocaleString("en")} ms</td>
                    <td>
                      {a.error ? <div className="form-error">{a.error}</div> : null}
                      {a.responseBody ? <code className="response-body" title={a.responseBody}>{truncated(a.responseBody)}</code> : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </td>
        </tr>
      ) : null}
    </>
  );
}

/**
 * An endpoint's deliveries, newest event first, by status; "More" reads the next page after
 * the last cursor. The list refreshes itself, often while something is under way.
 */
export function DeliveryList({ endpointId, onRefresh }: { endpointId: string; onRefresh?: () => void }) {
  const uid = useId();
  const [status, setStatus] = useState<WebhookDeliveryStatus | "">("");
  const [more, setMore] = useState(false);
  const { data, previousData, loading, error, refetch, fetchMore, startPolling, stopPolling } = useQuery(WebhookDeliveries, {
    variables: { endpointId, first: PAGE, status: status || null },
    fetchPolicy: "cache-and-network",
  });
  const page = (data ?? previousData)?.webhookDeliveries;
  const nodes = page?.nodes ?? [];
  const busy = nodes.some((d) => d.status === "PENDING" || d.status === "DELIVERING");
  useEffect(() => {
    startPolling(busy ? BUSY_POLL_MS : IDLE_POLL_MS);
    return () => stopPolling();
  }, [busy, startPolling, stopPolling]);

  const refresh = () => {
    onRefresh?.();
    refetch().catch(() => toast.error("Could not refresh the deliveries; try again"));
  };

  return (
    <section aria-labelledby={`${uid}-heading`}>
      <div className="row" style={{ justifyContent: "space-between" }}>
        <h3 id={`${uid}-heading`}>Deliveries</h3>
        <div className="row">
          <div className="field" style={{ maxWidth: "12rem" }}>
            <label htmlFor={`${uid}-status`}>Status</label>
            <select id={`${uid}-status`} value={status} onChange={(e) => setStatus(e.target.value as WebhookDeliveryStatus | "")}>
              <option value="">Any</option>
              {STATUSES.map((s) => <option key={s.value} value={s.value}>{s.text}</option>)}
            </select>
          </div>
          <button type="button" className="secondary" onClick={refresh}>Refresh</button>
        </div>
      </div>
      {error ? <p className="form-error" role="status">Could not load the deliveries ({why(error)}); it tries again in a moment.</p> : null}
      <div className="table-wrap" aria-busy={loading}>
        <table>
          <thead>
            <tr>
              <th scope="col">Event</th><th scope="col">Status</th><th scope="col">Attempts</th>
              <th scope="col">Last answer</th><th scope="col">Created</th><th scope="col"><span className="visually-hidden">Actions</span></th>
            </tr>
          </thead>
          <tbody>
            {nodes.length ? nodes.map((d) => <DeliveryRow key={d.id} delivery={d} onRedelivered={refresh} />) : (
              <tr><td colSpan={6} className="muted">{loading && !page ? "Loading…" : status ? "No deliveries in this state." : "No deliveries yet: events written from now on that this endpoint takes are delivered here."}</td></tr>
            )}
          </tbody>
        </table>
      </div>
      {page?.pageInfo.hasNextPage ? (
        <button
          type="button"
          className="secondary"
          style={{ marginTop: "0.5rem" }}
          disabled={more}
          onClick={async () => {
            setMore(true);
            try {
              await fetchMore({ variables: { after: page.pageInfo.endCursor } });
            } catch (e) {
              toast.error(`Could not load more: ${why(e)}`);
            } finally {
              setMore(false);
            }
          }}
        >
          {more ? "Loading…" : "More"}
        </button>
      ) : null}
    </section>
  );
}
