"use client";

import { useLazyQuery, useMutation } from "@apollo/client/react";
import { CombinedGraphQLErrors } from "@apollo/client/errors";
import { useRouter } from "next/navigation";
import { useEffect, useRef, useState, type FormEvent } from "react";

import { graphql } from "@/gql";
import type { Cabin, SearchInput } from "@/gql/graphql";
import { CURRENCIES, amountProblem, count, exponent, roughly } from "@/lib/format";
import { fieldErrors } from "@/lib/graphql-errors";

import { AirportPicker } from "./airport-picker";

const StartSearch = graphql(`
  mutation StartSearch($input: SearchInput!) {
    startSearch(input: $input) { ...JobSummary }
  }
`);

const EstimateSearch = graphql(`
  query EstimateSearch($input: SearchInput!) {
    estimateSearch(input: $input) {
      totalTasks
      estimatedSeconds
      withinQuota
      quotaMessage
    }
  }
`);

/** Above either, starting asks for a confirmation first. */
const CONFIRM_ABOVE_TASKS = 50_000;
const CONFIRM_ABOVE_SECONDS = 7_200;

export type ProviderChoice = { name: string; kind: string; enabled: boolean };

function isoDay(offset: number): string {
  const d = new Date(Date.now() + offset * 86_400_000);
  return d.toISOString().slice(0, 10);
}

/** What the form starts with: an earlier search's input ("edit as new"). */
export type SearchDefaults = SearchInput;

/** A search, as a travel site asks for one; the API's objections show beside their fields. */
export function SearchForm({ providers, defaults }: { providers: ProviderChoice[]; defaults?: SearchDefaults }) {
  const router = useRouter();
  const [origins, setOrigins] = useState<string[]>(defaults?.origins ?? []);
  const [destinations, setDestinations] = useState<string[]>(defaults?.destinations ?? []);
  const [roundTrip, setRoundTrip] = useState(defaults ? Boolean(defaults.nights) : true);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [start, { loading }] = useMutation(StartSearch);

  const formRef = useRef<HTMLFormElement>(null);
  const [estimate, { data: estimated, error: estimateError }] = useLazyQuery(EstimateSearch, { fetchPolicy: "network-only" });
  const [confirming, setConfirming] = useState(false);
  const [changes, setChanges] = useState(0);

  /** The form as a SearchInput, or the messages of fields the API could not even read. */
  function read(formElement: HTMLFormElement) {
    const form = new FormData(formElement);
    const currency = String(form.get("currency"));
    const cap = String(form.get("maxPrice") ?? "").trim();
    const stops = String(form.get("maxStops") ?? "");
    const chosen = providers.filter((p) => form.get(`provider-${p.name}`) === "on").map((p) => p.name);
    const text = (name: string) => String(form.get(name) ?? "").trim();
    const whole = (name: string) => /^\d+$/.test(text(name));
    const unreadable: Record<string, string> = {};
    if (text("departureFrom") === "") unreadable.departureFrom = "give the earliest departure date";
    if (text("departureTo") === "") unreadable.departureTo = "give the latest departure date";
    if (roundTrip && !whole("nightsMin")) unreadable.nightsMin = "give the fewest nights as a whole number";
    if (roundTrip && !whole("nightsMax")) unreadable.nightsMax = "give the most nights as a whole number";
    if (!whole("adults")) unreadable.adults = "give the number of passengers as a whole number";
    const capProblem = cap === "" ? null : amountProblem(cap, currency);
    if (capProblem) unreadable.maxPrice = capProblem;
    if (Object.keys(unreadable).length > 0) {
      // The API is not asked, so what it would have said of the places is said here too.
      if (origins.length === 0) unreadable.origins = "give at least one airport or city code";
      if (destinations.length === 0) unreadable.destinations = "give at least one airport or city code";
      return { unreadable };
    }
    const input = {
      origins,
      destinations,
      departureFrom: String(form.get("departureFrom")),
      departureTo: String(form.get("departureTo")),
      nights: roundTrip ? { min: Number(form.get("nightsMin")), max: Number(form.get("nightsMax")) } : null,
      adults: Number(form.get("adults")),
      cabin: String(form.get("cabin")) as Cabin,
      maxStops: stops === "" ? null : Number(stops),
      maxPrice: cap === "" ? null : Math.round(Number(cap) * 10 ** exponent(currency)),
      currency,
      providers: chosen,
      label: String(form.get("label") ?? "").trim() || null,
    };
    return { input };
  }

  // The estimate follows the form as it changes, a moment after the last keystroke.
  useEffect(() => {
    const form = formRef.current;
    if (!form || origins.length === 0 || destinations.length === 0) return;
    const timer = setTimeout(() => {
      const { input } = read(form);
      if (input) estimate({ variables: { input } }).catch(() => undefined);
    }, 300);
    return () => clearTimeout(timer);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [origins, destinations, roundTrip, changes]);

  // The first objection is brought into view (on a phone it may be far above).
  useEffect(() => {
    const first = formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"], .field-error:not(:empty)');
    first?.scrollIntoView({ block: "center" });
  }, [errors]);

  const cost = estimated?.estimateSearch;
  const big = cost ? cost.totalTasks > CONFIRM_ABOVE_TASKS || cost.estimatedSeconds > CONFIRM_ABOVE_SECONDS : false;

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const { input, unreadable } = read(event.currentTarget);
    if (!input) {
      setErrors(unreadable);
      return;
    }
    if (big && !confirming) {
      setConfirming(true);
      return;
    }
    setConfirming(false);
    setErrors({});
    try {
      const result = await start({ variables: { input } });
      const id = result.data?.startSearch.id;
      if (id) router.push(`/searches/${id}`);
    } catch (error) {
      setErrors(CombinedGraphQLErrors.is(error) ? fieldErrors(error.errors) : { "": "the server did not answer; try again" });
    }
  }

  const err = (field: string) => errors[field] ? <div className="field-error" role="alert">{errors[field]}</div> : null;
  return (
    <form
      ref={formRef}
      className="panel"
      onSubmit={submit}
      onChange={() => {
        setConfirming(false);
        setChanges((n) => n + 1);
      }}
      noValidate
      aria-label="New search"
    >
      <div className="grid">
        <AirportPicker name="origins" label="From" value={origins} onChange={setOrigins} error={errors.origins} />
        <AirportPicker name="destinations" label="To" value={destinations} onChange={setDestinations} error={errors.destinations} />
      </div>
      <fieldset className="row" style={{ border: "none", padding: 0, margin: "1rem 0 0" }}>
        <legend className="muted">Trip</legend>
        <label style={{ fontWeight: 400 }}>
          <input type="radio" name="trip" checked={roundTrip} onChange={() => setRoundTrip(true)} /> Round trip
        </label>
        <label style={{ fontWeight: 400 }}>
          <input type="radio" name="trip" checked={!roundTrip} onChange={() => setRoundTrip(false)} /> One way
        </label>
      </fieldset>
      <div className="grid" style={{ marginTop: "0.5rem" }}>
        <div className="field">
          <label htmlFor="departureFrom">Earliest departure</label>
          <input id="departureFrom" name="departureFrom" type="date" defaultValue={defaults?.departureFrom ?? isoDay(30)} required />
          {err("departureFrom")}
        </div>
        <div className="field">
          <label htmlFor="departureTo">Latest departure</label>
          <input id="departureTo" name="departureTo" type="date" defaultValue={defaults?.departureTo ?? isoDay(37)} required />
          {err("departureTo")}
        </div>
        {roundTrip ? (
          <>
            <div className="field">
              <label htmlFor="nightsMin">Nights, at least</label>
              <input id="nightsMin" name="nightsMin" type="number" min="0" defaultValue={defaults?.nights?.min ?? 7} aria-invalid={errors.nightsMin ? true : undefined} />
              {err("nightsMin")}
            </div>
            <div className="field">
              <label htmlFor="nightsMax">Nights, at most</label>
              <input id="nightsMax" name="nightsMax" type="number" min="0" defaultValue={defaults?.nights?.max ?? 10} aria-invalid={errors.nightsMax || errors.nights ? true : undefined} />
              {err("nightsMax")}
              {err("nights")}
            </div>
          </>
        ) : null}
      </div>
      <div className="grid" style={{ marginTop: "0.5rem" }}>
        <div className="field">
          <label htmlFor="adults">Passengers</label>
          <input id="adults" name="adults" type="number" min="1" max="9" defaultValue={defaults?.adults ?? 1} />
          {err("adults")}
        </div>
        <div className="field">
          <label htmlFor="cabin">Cabin</label>
          <select id="cabin" name="cabin" defaultValue={defaults?.cabin ?? "ECONOMY"}>
            <option value="ECONOMY">Economy</option>
            <option value="PREMIUM_ECONOMY">Premium economy</option>
            <option value="BUSINESS">Business</option>
            <option value="FIRST">First</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="maxStops">Stops</label>
          <select id="maxStops" name="maxStops" defaultValue={defaults?.maxStops == null ? "" : String(defaults.maxStops)}>
            <option value="">Any</option>
            <option value="0">Direct only</option>
            <option value="1">At most 1</option>
            <option value="2">At most 2</option>
          </select>
          {err("maxStops")}
        </div>
        <div className="field">
          <label htmlFor="maxPrice">Price cap (all passengers)</label>
          <input id="maxPrice" name="maxPrice" type="text" inputMode="decimal" placeholder="none"
            defaultValue={defaults?.maxPrice == null ? "" : String(defaults.maxPrice / 10 ** exponent(defaults.currency ?? "EUR"))} />
          {err("maxPrice")}
        </div>
        <div className="field">
          <label htmlFor="currency">Currency</label>
          <select id="currency" name="currency" defaultValue={defaults?.currency ?? "EUR"}>
            {CURRENCIES.map((c) => <option key={c} value={c}>{c}</option>)}
          </select>
          {err("currency")}
        </div>
      </div>
      <fieldset style={{ border: "none", padding: 0, margin: "1rem 0 0" }}>
        <legend className="muted">Providers</legend>
        <div className="row">
          {providers.map((p) => (
            <label key={p.name} style={{ fontWeight: 400 }}>
              <input type="checkbox" name={`provider-${p.name}`} defaultChecked={p.enabled && (!defaults?.providers?.length || defaults.providers.includes(p.name))} disabled={!p.enabled} /> {p.name}
              <span className="muted"> ({p.kind}{p.enabled ? "" : ", off"})</span>
            </label>
          ))}
        </div>
        {err("providers")}
      </fieldset>
      <div className="field" style={{ marginTop: "0.5rem" }}>
        <label htmlFor="label">Name (optional)</label>
        <input id="label" name="label" type="text" maxLength={200} placeholder="e.g. Easter in Asia" defaultValue={defaults?.label ?? ""} />
        {err("label")}
      </div>
      <div className="form-error" role="alert">{errors[""] ?? errors.input}</div>
      <p className="muted" aria-live="polite" data-testid="estimate" style={{ margin: "0.75rem 0 0" }}>
        {estimateError
          ? CombinedGraphQLErrors.is(estimateError)
            ? (fieldErrors(estimateError.errors).input ?? "")
            : ""
          : cost
          ? cost.withinQuota
            ? `≈ ${count(cost.totalTasks)} ${cost.totalTasks === 1 ? "query" : "queries"} · ${roughly(cost.estimatedSeconds)}`
            : `≈ ${count(cost.totalTasks)} queries: ${cost.quotaMessage ?? "more than your account may run now"}`
          : ""}
      </p>
      {confirming && cost ? (
        <p className="form-error" role="alert">
          This search makes {count(cost.totalTasks)} provider queries and runs {roughly(cost.estimatedSeconds)}. Fewer
          destinations, a shorter date range or fewer nights make it smaller. Start it anyway?
        </p>
      ) : null}
      <button type="submit" disabled={loading} style={{ marginTop: "0.75rem" }}>
        {loading ? "Starting…" : confirming ? "Start anyway" : "Search"}
      </button>
    </form>
  );
}
