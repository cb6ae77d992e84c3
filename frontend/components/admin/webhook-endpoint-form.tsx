"use client";

import { useMutation } from "@apollo/client/react";
import { CombinedGraphQLErrors } from "@apollo/client/errors";
import { useId, useState, type FormEvent } from "react";

import { graphql } from "@/gql";
import type { WebhookEndpointFieldsFragment as Endpoint } from "@/gql/graphql";
import { fieldErrors } from "@/lib/graphql-errors";

/** The outbox's event types (docs/events.md); the API has no list of them to ask for. */
export const EVENT_TYPES = [
  "booking.created",
  "booking.confirmed",
  "booking.failed",
  "booking.cancelled",
  "search.succeeded",
  "search.failed",
  "import.finished",
] as const;

/** The event type that takes every type, present and future. */
export const ALL_EVENTS = "*";

// The answer carries the secret: it stays out of Apollo's cache (fetchPolicy "no-cache"),
// held only by the box that shows it once.
const CreateEndpoint = graphql(`
  mutation CreateWebhookEndpoint($input: CreateWebhookEndpointInput!) {
    createWebhookEndpoint(input: $input) { secret endpoint { ...WebhookEndpointFields } }
  }
`);

const UpdateEndpoint = graphql(`
  mutation UpdateWebhookEndpoint($id: UUID!, $input: UpdateWebhookEndpointInput!) {
    updateWebhookEndpoint(id: $id, input: $input) { ...WebhookEndpointFields }
  }
`);

/** The API's objections by input field ("input.url" → "url"), in a sentence each. */
function objections(error: unknown): Record<string, string> {
  const byField = CombinedGraphQLErrors.is(error)
    ? fieldErrors(error.errors)
    : { "": "the server did not answer; try again" };
  return Object.fromEntries(
    Object.entries(byField).map(([field, message]) => [
      field.replace(/^input\./, ""),
      message.charAt(0).toUpperCase() + message.slice(1),
    ]),
  );
}

/**
 * Add an endpoint (`endpoint` null) or change one: URL, event types, description and
 * ordering. A new endpoint's secret goes to `onCreated`; the form is then empty again.
 */
export function EndpointForm({
  endpoint,
  onCreated,
  onDone,
}: {
  endpoint: Endpoint | null;
  onCreated?: (endpoint: Endpoint, secret: string) => void;
  onDone?: () => void;
}) {
  const uid = useId();
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [types, setTypes] = useState<string[]>(endpoint?.eventTypes ?? []);
  const [create, creating] = useMutation(CreateEndpoint, { fetchPolicy: "no-cache" });
  const [update, updating] = useMutation(UpdateEndpoint);
  const all = types.includes(ALL_EVENTS);
  const title = endpoint ? `Edit ${endpoint.url}` : "Add an endpoint";

  function toggle(type: string, on: boolean) {
    setTypes((current) => (on ? [...current.filter((t) => t !== type), type] : current.filter((t) => t !== type)));
  }

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const url = String(form.get("url") ?? "").trim();
    const description = String(form.get("description") ?? "").trim();
    const parallel = form.get("parallel") === "on";
    const eventTypes = all ? [ALL_EVENTS] : EVENT_TYPES.filter((t) => types.includes(t));
    setErrors({});
    try {
      if (endpoint) {
        // An empty description removes it.
        await update({ variables: { id: endpoint.id, input: { url, eventTypes, description, parallel } } });
        onDone?.();
      } else {
        const result = await create({ variables: { input: { url, eventTypes, description: description || null, parallel } } });
        const made = result.data?.createWebhookEndpoint;
        if (made) {
          formElement.reset();
          setTypes([]);
          onCreated?.(made.endpoint, made.secret);
        }
      }
    } catch (error) {
      setErrors(objections(error));
    }
  }

  const busy = creating.loading || updating.loading;
  const described = (field: string) => (errors[field] ? `${uid}-${field}-error` : undefined);
  const fieldError = (field: string) =>
    errors[field] ? <div id={`${uid}-${field}-error`} className="field-error" role="alert">{errors[field]}</div> : null;

  return (
    <form className="panel" onSubmit={submit} noValidate aria-label={title}>
      <h2 style={{ marginTop: 0 }}>{title}</h2>
      <div className="grid">
        <div className="field">
          <label htmlFor={`${uid}-url`}>URL</label>
          <input
            id={`${uid}-url`}
            name="url"
            type="url"
            inputMode="url"
            placeholder="https://example.com/hooks/fast-flights"
            defaultValue={endpoint?.url}
            aria-invalid={Boolean(errors.url)}
            aria-describedby={described("url")}
          />
          {fieldError("url")}
        </div>
        <div className="field">
          <label htmlFor={`${uid}-description`}>Description <span className="muted">(optional)</span></label>
          <input
            id={`${uid}-description`}
            name="description"
            type="text"
            maxLength={500}
            defaultValue={endpoint?.description ?? ""}
            aria-invalid={Boolean(errors.description)}
            aria-describedby={described("description")}
          />
          {fieldError("description")}
        </div>
      </div>
      <fieldset
        className="event-types"
        aria-invalid={Boolean(errors.eventTypes)}
        aria-describedby={described("eventTypes")}
      >
        <legend>Event types</legend>
        <label className="check">
          <input type="checkbox" checked={all} onChange={(e) => toggle(ALL_EVENTS, e.target.checked)} />
          <span>All events (<code>*</code>, also types added later)</span>
        </label>
        {EVENT_TYPES.map((type) => (
          <label className="check" key={type}>
            <input
              type="checkbox"
              checked={all || types.includes(type)}
              disabled={all}
              onChange={(e) => toggle(type, e.target.checked)}
            />
            <code>{type}</code>
          </label>
        ))}
        {fieldError("eventTypes")}
      </fieldset>
      <label className="check">
        <input name="parallel" type="checkbox" defaultChecked={endpoint?.parallel ?? false} aria-describedby={`${uid}-parallel-hint`} />
        Deliver in parallel
      </label>
      <div id={`${uid}-parallel-hint`} className="muted">
        Several at once and out of order; otherwise one at a time, in the order the events happened.
      </div>
      {errors[""] ? <p className="form-error" role="alert">{errors[""]}</p> : null}
      <div className="row" style={{ marginTop: "0.75rem" }}>
        <button type="submit" disabled={busy}>{endpoint ? "Save" : busy ? "Adding…" : "Add endpoint"}</button>
        {onDone && endpoint ? <button type="button" className="secondary" onClick={onDone}>Close</button> : null}
      </div>
    </form>
  );
}
