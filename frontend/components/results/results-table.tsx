"use client";

import { useQuery } from "@apollo/client/react";
import { Fragment, useEffect, useRef, useState } from "react";

import { graphql } from "@/gql";
import type { FlightsQuery, ResultRowFragment as ResultRow } from "@/gql/graphql";
import { Flights, FlightsCount } from "@/components/search/documents";
import { amountProblem, duration } from "@/lib/format";
import { useFormat } from "@/lib/locale";
import { StaleNotice } from "@/components/layout/stale-notice";
import { useSeed, useThrottledRefetch } from "@/lib/hooks";

import { BookOffer } from "@/components/bookings/book-offer";

import { type PageState, type SortKey, TIMES_OF_DAY, filterOf, filtered, orderOf, windowLabel } from "./flight-params";
import { FlightDetailsPanel, flightNumbersByLeg, sourceInWords } from "./itinerary";
import { PAGE_SIZE } from "./page-size";

export const ResultRowFragment = graphql(`
  fragment ResultRow on FlightOffer {
    id
    provider
    origin
    destination
    departureAt
    arrivalAt
    returnDepartureAt
    returnArrivalAt
    carrier
    flightNumbers
    stops
    durationMinutes
    price { amount currency minorUnits }
    segments { direction flightNumber }
  }
`);

const SORT_LABELS: Record<SortKey, string> = {
  price: "price",
  departure: "departure",
  arrival: "arrival",
  duration: "flight time",
  stops: "stops",
};

/**
 * The offers of a search, a page at a time, sorted and filtered by the API, as the URL
 * says. The first page comes with the server-rendered page. While the search runs, a page
 * being read keeps its rows; what was found since is counted above it, to show on a click.
 */
export function ResultsTable({ jobId, currency, adults, foundFlights, seededAt, updatedAt, destinations, origins, roundTrip, initial, ended, emptyReason, state, setState }: {
  jobId: string;
  currency: string;
  adults: number;
  foundFlights: number;
  /** `foundFlights` when the server rendered the page. */
  seededAt: number;
  /** The search's last checkpoint: offers found after it are new to this page. */
  updatedAt: string;
  origins: string[];
  destinations: string[];
  roundTrip: boolean;
  initial: FlightsQuery;
  /** The search has ended: an empty list is final. */
  ended: boolean;
  /** Why an ended search may have found nothing, in words. */
  emptyReason: string | null;
  state: PageState;
  setState: (change: Partial<PageState>, options?: { replace?: boolean }) => void;
}) {
  const f = useFormat();
  const orderBy = orderOf(state);
  const filter = filterOf(state, currency);
  const after = state.cursors.at(-1) ?? null;
  const variables = { jobId, first: PAGE_SIZE, after, orderBy, filter };
  // The server rendered the page the URL named when it loaded.
  const [seeded] = useState(() => variables);
  useSeed(Flights, seeded, initial);
  const { data, previousData, loading, error, refetch } = useQuery(Flights, { variables });
  const page = (data ?? previousData)?.flights;
  const rows = page?.nodes ?? [];

  // What this page was read as of; a first page with room left fills in by itself.
  const [seenAt, setSeenAt] = useState(updatedAt);
  const filling = state.cursors.length === 0 && rows.length < PAGE_SIZE;
  useThrottledRefetch(foundFlights, () => {
    if (!filling) return;
    setSeenAt(updatedAt);
    return refetch();
  }, 2000, seededAt);

  const last = rows.at(-1);
  const cheaperOnly = orderBy === "PRICE_ASC" && last !== undefined && rows.length === PAGE_SIZE;
  const newFilter = {
    ...filter,
    foundSince: seenAt,
    ...(cheaperOnly ? { maxPrice: Math.min(filter.maxPrice ?? Infinity, last.price.minorUnits) } : {}),
  };
  const total = useQuery(FlightsCount, { variables: { jobId, filter } });
  const fresh = useQuery(FlightsCount, { variables: { jobId, filter: newFilter }, skip: filling || foundFlights === 0 });
  useThrottledRefetch(foundFlights, () => {
    void total.refetch();
    if (!filling) void fresh.refetch();
  }, 2000);
  const newCount = filling ? 0 : fresh.data?.flights.totalCount ?? 0;
  const totalCount = total.data?.flights.totalCount;

  const showNew = () => {
    setSeenAt(updatedAt);
    if (state.cursors.length > 0) setState({ cursors: [] });
    else void refetch();
  };

  const sortButton = (key: SortKey, label: string) => {
    const active = state.sort === key;
    return (
      <button
        type="button"
        aria-pressed={active}
        title={active ? `Sorted by ${SORT_LABELS[key]}, ${state.descending ? "highest" : "lowest"} first: click to reverse` : `Sort by ${SORT_LABELS[key]}`}
        onClick={() => setState({ sort: key, descending: active ? !state.descending : false, cursors: [] })}
      >
        {label}{active ? (state.descending ? " ▼" : " ▲") : ""}
      </button>
    );
  };
  const sortState = (key: SortKey) => (state.sort === key ? (state.descending ? "descending" : "ascending") : "none");

  return (
    <section aria-labelledby="results-heading">
      <h2 id="results-heading">Results</h2>
      <Filters jobId={jobId} state={state} setState={setState} currency={currency} origins={origins} destinations={destinations} roundTrip={roundTrip} />
      <div className="field phone-only">
        <label htmlFor="sort-by">Sort by</label>
        <select
          id="sort-by"
          value={`${state.descending ? "-" : ""}${state.sort}`}
          onChange={(e) => setState({ sort: e.target.value.replace(/^-/, "") as SortKey, descending: e.target.value.startsWith("-"), cursors: [] })}
        >
          {(Object.keys(SORT_LABELS) as SortKey[]).flatMap((key) => [
            <option key={key} value={key}>{SORT_LABELS[key]}, lowest first</option>,
            <option key={`-${key}`} value={`-${key}`}>{SORT_LABELS[key]}, highest first</option>,
          ])}
        </select>
      </div>
      <StaleNotice error={error} />
      <p className="muted" data-testid="result-count" aria-live="polite">
        {totalCount == null ? "\u00a0" : `${f.count(totalCount)} flight${totalCount === 1 ? "" : "s"}${filtered(state) ? " match these filters" : ""}`}
        {" · "}sorted by {SORT_LABELS[state.sort]}, {state.descending ? "highest" : "lowest"} first · page {state.cursors.length + 1}
      </p>
      {newCount > 0 ? (
        <p className="notice" role="status">
          {f.count(newCount)} {cheaperOnly ? "cheaper " : "new "}flight{newCount === 1 ? "" : "s"} found since this page was read —{" "}
          <button type="button" className="link-button" onClick={showNew}>show</button>
        </p>
      ) : null}
      <div className="table-wrap" aria-busy={loading}>
        <table className="results cards">
          <thead>
            <tr>
              <th scope="col" aria-sort={sortState("price")}>{sortButton("price", `Price (${adults > 1 ? `${adults} travellers` : "1 traveller"})`)}</th>
              <th scope="col" aria-sort={sortState("departure")}>{sortButton("departure", "Departure")}</th>
              <th scope="col" aria-sort={sortState("arrival")}>{sortButton("arrival", "Arrival")}</th>
              <th scope="col">Route</th>
              <th scope="col" aria-sort={sortState("duration")}>{sortButton("duration", "Flight time")}</th>
              <th scope="col" aria-sort={sortState("stops")}>{sortButton("stops", "Stops")}</th>
              <th scope="col">Flights</th>
              <th scope="col">Return</th>
              <th scope="col"><span className="visually-hidden">Actions</span></th>
            </tr>
          </thead>
          <tbody>
            {rows.length ? (
              rows.map((o) => (
                <Fragment key={o.id}>
                  <OfferRow offer={o} jobId={jobId} adults={adults} open={state.flight === o.id}
                    toggle={() => setState({ flight: state.flight === o.id ? null : o.id }, { replace: true })} />
                  {state.flight === o.id ? (
                    <tr className="details-row">
                      <td colSpan={9} id={`details-${o.id}`}>
                        <FlightDetailsPanel id={o.id} adults={adults} />
                      </td>
                    </tr>
                  ) : null}
                </Fragment>
              ))
            ) : (
              <tr className="empty"><td colSpan={9} className="muted">{loading
                ? "Loading…"
                : foundFlights > 0
                ? "No flights match these filters."
                : ended
                ? `No flights found${emptyReason ? `: ${emptyReason}` : "."}`
                : "No flights yet: they appear here as the search finds them."}</td></tr>
            )}
          </tbody>
        </table>
      </div>
      {state.flight && !rows.some((o) => o.id === state.flight) && !loading ? (
        <section className="panel" aria-label="Flight details">
          <div className="row" style={{ justifyContent: "space-between" }}>
            <h3 style={{ margin: 0 }}>Flight details</h3>
            <button type="button" className="secondary" onClick={() => setState({ flight: null }, { replace: true })}>Close</button>
          </div>
          <FlightDetailsPanel id={state.flight} adults={adults} />
        </section>
      ) : null}
      <div className="row">
        <button type="button" className="secondary" disabled={loading || state.cursors.length === 0} onClick={() => setState({ cursors: state.cursors.slice(0, -1), flight: null })}>
          Previous page
        </button>
        <button
          type="button"
          className="secondary"
          disabled={loading || !page?.pageInfo.hasNextPage}
          onClick={() => page?.pageInfo.endCursor && setState({ cursors: [...state.cursors, page.pageInfo.endCursor], flight: null })}
        >
          Next page
        </button>
      </div>
    </section>
  );
}

function OfferRow({ offer: o, jobId, adults, open, toggle }: { offer: ResultRow; jobId: string; adults: number; open: boolean; toggle: () => void }) {
  const f = useFormat();
  const numbers = flightNumbersByLeg(o);
  return (
    <tr data-testid="offer-row" className={open ? "selected" : undefined}>
      <td data-testid="price" data-label="Price">
        <strong>{f.money(o.price)}</strong>
        {adults > 1 ? <div className="muted">{f.minorMoney(Math.round(o.price.minorUnits / adults), o.price.currency)} each</div> : null}
      </td>
      <td data-testid="departure" data-value={o.departureAt} data-label="Leaves">{f.localTime(o.departureAt)}</td>
      <td data-testid="arrival" data-value={o.arrivalAt} data-label="Arrives">{f.localTime(o.arrivalAt)}</td>
      <td data-label="Route">{o.origin} → {o.destination}</td>
      <td data-testid="duration" data-value={o.durationMinutes} data-label="Flight time">
        {duration(o.durationMinutes)}{o.returnDepartureAt ? <span className="muted"> both ways</span> : null}
      </td>
      <td data-testid="stops" data-value={o.stops} data-label="Stops">{o.stops === 0 ? "direct" : o.stops}</td>
      <td data-testid="flight-numbers" data-label="Flights">
        {o.carrier}{" "}
        <span className="muted">
          <span data-testid="outbound-numbers">{numbers.outbound.join(" ")}</span>
          {numbers.back.length ? <> · back <span data-testid="return-numbers">{numbers.back.join(" ")}</span></> : null}
        </span>
        <div className="muted small">{sourceInWords(o.provider)}</div>
      </td>
      <td data-testid="return" data-value={o.returnDepartureAt ?? undefined} data-label="Return">{o.returnDepartureAt ? f.localTime(o.returnDepartureAt) : "one way"}</td>
      <td className="actions">
        <button type="button" className="secondary" aria-expanded={open} aria-controls={open ? `details-${o.id}` : undefined} onClick={toggle}>
          {open ? "Hide details" : "Details"}
        </button>
        <BookOffer offer={o} jobId={jobId} adults={adults} />
      </td>
    </tr>
  );
}

/** The filters, applied together; each set one shows as a chip that clears it. */
function Filters({ jobId, state, setState, currency, origins, destinations, roundTrip }: {
  jobId: string;
  state: PageState;
  setState: (change: Partial<PageState>) => void;
  currency: string;
  origins: string[];
  destinations: string[];
  roundTrip: boolean;
}) {
  const f = useFormat();
  const [problem, setProblem] = useState<string | null>(null);
  const form = useRef<HTMLFormElement>(null);
  // The form shows what the URL says (Back and Forward change it).
  const key = JSON.stringify([state.stops, state.airlines, state.maxPrice, state.maxHours, state.from, state.to, state.leaves, state.returns]);
  useEffect(() => setProblem(null), [key]);
  const chips: [string, Partial<PageState>][] = [];
  if (state.day) chips.push([`leaving ${f.day(state.day)}`, { day: "" }]);
  if (state.back) chips.push([`back ${f.day(state.back)}`, { back: "" }]);
  return (
    <>
      <form
        key={key}
        ref={form}
        className="row filters"
        aria-label="Filter results"
        onSubmit={(e) => {
          e.preventDefault();
          const data = new FormData(e.currentTarget);
          const text = (name: string) => String(data.get(name) ?? "").trim();
          const price = text("maxPrice");
          const priceProblem = price === "" ? null : amountProblem(price, currency);
          const hours = text("maxHours");
          if (priceProblem) return setProblem(`Price up to: ${priceProblem}`);
          if (hours !== "" && !(Number(hours) > 0)) return setProblem("Flight time up to: give a number of hours above 0");
          setProblem(null);
          const codes = (name: string) => data.getAll(name).map(String).filter(Boolean);
          setState({
            stops: text("stops"),
            airlines: codes("airlines"),
            maxPrice: price,
            maxHours: hours,
            from: codes("from"),
            to: codes("to"),
            leaves: text("leaves"),
            returns: text("returns"),
            cursors: [],
            flight: null,
          });
        }}
      >
        <div className="field">
          <label htmlFor="f-stops">Stops</label>
          <select id="f-stops" name="stops" defaultValue={state.stops}>
            <option value="">Any</option>
            <option value="0">Direct only</option>
            <option value="1">At most 1</option>
            <option value="2">At most 2</option>
          </select>
        </div>
        <AirlineChoice jobId={jobId} chosen={state.airlines} />
        <div className="field">
          <label htmlFor="f-price">Price up to ({currency})</label>
          <input id="f-price" name="maxPrice" type="text" inputMode="decimal" defaultValue={state.maxPrice} />
        </div>
        <div className="field">
          <label htmlFor="f-hours">Flight time up to (hours)</label>
          <input id="f-hours" name="maxHours" type="text" inputMode="decimal" defaultValue={state.maxHours} />
        </div>
        <TimeOfDayChoice id="f-leaves" name="leaves" label="Leaves" chosen={state.leaves} />
        {roundTrip ? <TimeOfDayChoice id="f-returns" name="returns" label="Flies back" chosen={state.returns} /> : null}
        {origins.length > 1 ? <AirportChoice name="from" label="From" codes={origins} chosen={state.from} /> : null}
        {destinations.length > 1 ? <AirportChoice name="to" label="To" codes={destinations} chosen={state.to} /> : null}
        <button type="submit" className="secondary">Apply</button>
      </form>
      {problem ? <p className="form-error" role="alert">{problem}</p> : null}
      {chips.length ? (
        <div className="chips" aria-label="Date filters">
          {chips.map(([label, clear]) => (
            <span className="chip" key={label}>
              {label}
              <button type="button" aria-label={`Show every date, not only ${label}`} onClick={() => setState({ ...clear, cursors: [], flight: null })}>×</button>
            </span>
          ))}
        </div>
      ) : null}
    </>
  );
}

const JobAirlines = graphql(`
  query JobAirlines($id: UUID!) {
    job(id: $id) { id airlines { code name } }
  }
`);

/** The airlines of the flights found, by name, to keep some of. */
function AirlineChoice({ jobId, chosen }: { jobId: string; chosen: string[] }) {
  const { data, loading } = useQuery(JobAirlines, { variables: { id: jobId } });
  const found = data?.job?.airlines ?? [];
  const listed = [...found, ...chosen.filter((c) => !found.some((a) => a.code === c)).map((code) => ({ code, name: null }))];
  return (
    <fieldset className="field airlines">
      <legend>Airlines</legend>
      {listed.length === 0 ? <span className="muted">{loading ? "Loading…" : "None found yet"}</span> : null}
      {listed.map((a) => (
        <label className="check" key={a.code}>
          <input type="checkbox" name="airlines" value={a.code} defaultChecked={chosen.includes(a.code)} /> {a.name ?? a.code}
          {a.name ? <span className="muted"> {a.code}</span> : null}
        </label>
      ))}
    </fieldset>
  );
}

/** A part of the day, in the local time of the airport the flight leaves from. */
function TimeOfDayChoice({ id, name, label, chosen }: { id: string; name: string; label: string; chosen: string }) {
  const listed = TIMES_OF_DAY.some((t) => t.window === chosen) || chosen === "" ? TIMES_OF_DAY : [...TIMES_OF_DAY, { window: chosen, label: windowLabel(chosen) }];
  return (
    <div className="field">
      <label htmlFor={id}>{label} <span className="muted">(local time)</span></label>
      <select id={id} name={name} defaultValue={chosen}>
        <option value="">Any time</option>
        {listed.map((t) => <option key={t.window} value={t.window}>{t.label}</option>)}
      </select>
    </div>
  );
}

function AirportChoice({ name, label, codes, chosen }: { name: string; label: string; codes: string[]; chosen: string[] }) {
  return (
    <fieldset className="field airports">
      <legend>{label}</legend>
      {codes.map((code) => (
        <label className="check" key={code}>
          <input type="checkbox" name={name} value={code} defaultChecked={chosen.includes(code)} /> {code}
        </label>
      ))}
    </fieldset>
  );
}
