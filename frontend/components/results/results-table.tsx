"use client";

import { useQuery } from "@apollo/client/react";
import { useState } from "react";

import { graphql } from "@/gql";
import type { FlightOrder, FlightsQuery } from "@/gql/graphql";
import { Flights } from "@/components/search/documents";
import { duration, exponent, localTime, money } from "@/lib/format";
import { StaleNotice } from "@/components/layout/stale-notice";
import { useSeed, useThrottledRefetch } from "@/lib/hooks";

import { BookOffer } from "@/components/bookings/book-offer";

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
    carrier
    flightNumbers
    stops
    durationMinutes
    price { amount currency minorUnits }
  }
`);


type Filter = { maxStops?: number; carriers?: string[]; maxPrice?: number };

/**
 * The offers of a search, a page at a time, sorted and filtered by the API. The first
 * page comes with the server-rendered page; while the search runs, the page in view is
 * read again as flights are found (at most every two seconds).
 */
export function ResultsTable({ jobId, currency, adults, foundFlights, seededAt, initial, ended, emptyReason }: {
  jobId: string;
  currency: string;
  adults: number;
  foundFlights: number;
  seededAt: number;
  initial: FlightsQuery;
  /** The search has ended: an empty list is final. */
  ended: boolean;
  /** Why an ended search may have found nothing, in words. */
  emptyReason: string | null;
}) {
  const [orderBy, setOrderBy] = useState<FlightOrder>("PRICE_ASC");
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [filter, setFilter] = useState<Filter>({});
  const after = cursors[cursors.length - 1];
  const variables = { jobId, first: PAGE_SIZE, after, orderBy, filter };
  useSeed(Flights, { jobId, first: PAGE_SIZE, after: null, orderBy: "PRICE_ASC", filter: {} }, initial);
  const { data, previousData, loading, error, refetch } = useQuery(Flights, { variables });
  useThrottledRefetch(foundFlights, () => refetch(), 2000, seededAt);
  const page = (data ?? previousData)?.flights;

  const sortButton = (order: FlightOrder, label: string) => (
    <button
      type="button"
      aria-pressed={orderBy === order}
      onClick={() => {
        setOrderBy(order);
        setCursors([null]);
      }}
    >
      {label}{orderBy === order ? " ▲" : ""}
    </button>
  );
  const sortState = (order: FlightOrder) => (orderBy === order ? "ascending" : "none");

  return (
    <section aria-labelledby="results-heading">
      <h2 id="results-heading">Results</h2>
      <form
        className="row"
        aria-label="Filter results"
        onSubmit={(e) => {
          e.preventDefault();
          const form = new FormData(e.currentTarget);
          const stops = String(form.get("maxStops") ?? "");
          const carriers = String(form.get("carriers") ?? "").split(/[\s,]+/).map((c) => c.trim().toUpperCase()).filter(Boolean);
          const price = String(form.get("maxPrice") ?? "").trim();
          setFilter({
            maxStops: stops === "" ? undefined : Number(stops),
            carriers: carriers.length ? carriers : undefined,
            maxPrice: price === "" ? undefined : Math.round(Number(price) * 10 ** exponent(currency)),
          });
          setCursors([null]);
        }}
      >
        <div className="field">
          <label htmlFor="f-stops">Stops</label>
          <select id="f-stops" name="maxStops" defaultValue="">
            <option value="">Any</option>
            <option value="0">Direct only</option>
            <option value="1">At most 1</option>
            <option value="2">At most 2</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="f-carriers">Airlines</label>
          <input id="f-carriers" name="carriers" type="text" placeholder="e.g. BA, LH" />
        </div>
        <div className="field">
          <label htmlFor="f-price">Price up to ({currency})</label>
          <input id="f-price" name="maxPrice" type="number" min="0" step="any" />
        </div>
        <button type="submit" className="secondary">Apply</button>
      </form>
      <StaleNotice error={error} />
      <div className="table-wrap" aria-busy={loading}>
        <table>
          <caption className="muted" style={{ textAlign: "left" }}>
            Sorted by {orderBy === "PRICE_ASC" ? "price" : orderBy === "DEPARTURE_ASC" ? "departure" : "duration"}; page {cursors.length}
          </caption>
          <thead>
            <tr>
              <th scope="col" aria-sort={sortState("PRICE_ASC")}>{sortButton("PRICE_ASC", "Price")}</th>
              <th scope="col" aria-sort={sortState("DEPARTURE_ASC")}>{sortButton("DEPARTURE_ASC", "Departure")}</th>
              <th scope="col">Route</th>
              <th scope="col" aria-sort={sortState("DURATION_ASC")}>{sortButton("DURATION_ASC", "Duration")}</th>
              <th scope="col">Stops</th>
              <th scope="col">Airline</th>
              <th scope="col">Return</th>
              <th scope="col">Source</th>
              <th scope="col"><span className="visually-hidden">Book</span></th>
            </tr>
          </thead>
          <tbody>
            {page?.nodes.length ? (
              page.nodes.map((o) => (
                <tr key={o.id} data-testid="offer-row">
                  <td data-testid="price">{money(o.price)}</td>
                  <td data-testid="departure" data-value={o.departureAt}>{localTime(o.departureAt)}</td>
                  <td>{o.origin} → {o.destination}</td>
                  <td data-testid="duration" data-value={o.durationMinutes}>{duration(o.durationMinutes)}</td>
                  <td>{o.stops === 0 ? "direct" : o.stops}</td>
                  <td>{o.carrier} <span className="muted">{o.flightNumbers.join(" ")}</span></td>
                  <td>{o.returnDepartureAt ? localTime(o.returnDepartureAt) : "one way"}</td>
                  <td>{o.provider}</td>
                  <td><BookOffer offer={o} jobId={jobId} adults={adults} /></td>
                </tr>
              ))
            ) : (
              <tr><td colSpan={9} className="muted">{loading
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
      <div className="row">
        <button type="button" className="secondary" disabled={loading || cursors.length < 2} onClick={() => setCursors(cursors.slice(0, -1))}>
          Previous page
        </button>
        <button
          type="button"
          className="secondary"
          disabled={loading || !page?.pageInfo.hasNextPage}
          onClick={() => page?.pageInfo.endCursor && setCursors([...cursors, page.pageInfo.endCursor])}
        >
          Next page
        </button>
      </div>
    </section>
  );
}
