"use client";

import { CombinedGraphQLErrors } from "@apollo/client/errors";
import { useQuery } from "@apollo/client/react";

import { graphql } from "@/gql";
import type { ItineraryFragment } from "@/gql/graphql";
import { daysLater, duration, minutesBetween } from "@/lib/format";
import { useFormat } from "@/lib/locale";

export const ItineraryFragmentDoc = graphql(`
  fragment Itinerary on FlightOffer {
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
    cabin
    price { amount currency minorUnits }
    expiresAt
    deepLink
    foundAt
    fetchedAt
    segments { direction carrier flightNumber origin destination departureAt arrivalAt }
  }
`);

export const FlightDetails = graphql(`
  query FlightDetails($id: UUID!) {
    flight(id: $id) { ...Itinerary }
  }
`);

type Segment = ItineraryFragment["segments"][number];

/** Where an offer came from, in a traveller's words. */
export function sourceInWords(provider: string): string {
  if (provider === "inventory") return "our own flight catalogue";
  if (provider === "simulated") return "simulated fares (a demonstration provider)";
  return `the ${provider} provider`;
}

const CABINS: Record<string, string> = {
  ECONOMY: "Economy",
  PREMIUM_ECONOMY: "Premium economy",
  BUSINESS: "Business",
  FIRST: "First",
};

/** A segment's flight numbers by direction, e.g. "IB4660 IB4667" and "IB4661 IB4668". */
export function flightNumbersByLeg(offer: { flightNumbers: string[]; segments?: Pick<Segment, "direction" | "flightNumber">[] | null }) {
  const segments = offer.segments ?? [];
  if (segments.length === 0) return { outbound: offer.flightNumbers, back: [] as string[] };
  return {
    outbound: segments.filter((s) => s.direction === "OUTBOUND").map((s) => s.flightNumber),
    back: segments.filter((s) => s.direction === "RETURN").map((s) => s.flightNumber),
  };
}

function Leg({ title, segments, from, to, departureAt, arrivalAt, stops }: {
  title: string;
  segments: Segment[];
  from: string;
  to: string;
  departureAt: string;
  arrivalAt: string;
  stops: number | null;
}) {
  const f = useFormat();
  const minutes = minutesBetween(departureAt, arrivalAt);
  const later = daysLater(departureAt, arrivalAt);
  const changes = segments.length > 0 ? segments.length - 1 : stops;
  return (
    <section className="leg" aria-label={title} data-testid="leg">
      <h4>
        {title}: {from} → {to} · {f.day(departureAt)}
      </h4>
      <p className="muted">
        {duration(minutes)} in all · {changes === 0 ? "direct" : changes == null ? "" : `${changes} stop${changes > 1 ? "s" : ""}`}
        {later > 0 ? ` · arrives ${f.day(arrivalAt)}` : ""}
      </p>
      {segments.length === 0 ? (
        <p data-testid="segment">
          Leaves {from} {f.localTime(departureAt)}, arrives {to} {f.localTime(arrivalAt)}.{" "}
          <span className="muted">The provider did not list the flights one by one.</span>
        </p>
      ) : (
        <ol className="segments">
          {segments.map((s, i) => {
            const next = segments[i + 1];
            const segmentLater = daysLater(s.departureAt, s.arrivalAt);
            return (
              <li key={`${s.flightNumber}-${s.departureAt}`}>
                <div data-testid="segment">
                  <strong>{s.flightNumber}</strong> <span className="muted">({s.carrier})</span> · {s.origin} {f.clock(s.departureAt)}
                  {" → "}
                  {s.destination} {f.clock(s.arrivalAt)}
                  {segmentLater > 0 ? <sup title={`arrives ${f.day(s.arrivalAt)}`}> +{segmentLater}</sup> : null}
                  <span className="muted"> · {f.day(s.departureAt)} · {duration(minutesBetween(s.departureAt, s.arrivalAt))}</span>
                </div>
                {next ? (
                  <div className="layover" data-testid="layover">
                    Change at {s.destination}: {duration(minutesBetween(s.arrivalAt, next.departureAt))} layover
                    {next.origin !== s.destination ? ` (from ${s.destination} to ${next.origin})` : ""}
                  </div>
                ) : null}
              </li>
            );
          })}
        </ol>
      )}
    </section>
  );
}

/** An offer in full: each leg with its flights and layovers, the price per traveller and in all. */
export function Itinerary({ offer, adults }: { offer: ItineraryFragment; adults: number }) {
  const f = useFormat();
  const outbound = offer.segments.filter((s) => s.direction === "OUTBOUND");
  const back = offer.segments.filter((s) => s.direction === "RETURN");
  const perTraveller = Math.round(offer.price.minorUnits / Math.max(adults, 1));
  return (
    <div className="itinerary" data-testid="itinerary">
      <Leg
        title="Outbound"
        segments={outbound}
        from={outbound[0]?.origin ?? offer.origin}
        to={outbound.at(-1)?.destination ?? offer.destination}
        departureAt={outbound[0]?.departureAt ?? offer.departureAt}
        arrivalAt={outbound.at(-1)?.arrivalAt ?? offer.arrivalAt}
        stops={offer.segments.length ? null : offer.stops}
      />
      {offer.returnDepartureAt && offer.returnArrivalAt ? (
        <Leg
          title="Return"
          segments={back}
          from={back[0]?.origin ?? offer.destination}
          to={back.at(-1)?.destination ?? offer.origin}
          departureAt={back[0]?.departureAt ?? offer.returnDepartureAt}
          arrivalAt={back.at(-1)?.arrivalAt ?? offer.returnArrivalAt}
          stops={offer.segments.length ? null : offer.stops}
        />
      ) : null}
      <dl className="facts">
        <div>
          <dt>Price</dt>
          <dd data-testid="itinerary-price">
            {adults > 1
              ? `${f.minorMoney(perTraveller, offer.price.currency)} per traveller · ${f.money(offer.price)} for ${adults} travellers`
              : `${f.money(offer.price)} for 1 traveller`}
          </dd>
        </div>
        <div><dt>Cabin</dt><dd>{CABINS[offer.cabin] ?? offer.cabin}</dd></div>
        <div>
          <dt>From</dt>
          <dd>
            {sourceInWords(offer.provider)}, price seen{" "}
            <span data-testid="itinerary-seen" title={f.utcTime(offer.fetchedAt)}>{f.ago(offer.fetchedAt)}</span>
            {offer.expiresAt ? `, held until ${f.utcTime(offer.expiresAt)}` : ""}
          </dd>
        </div>
        {offer.deepLink ? (
          <div><dt>At the provider</dt><dd><a href={offer.deepLink} rel="noopener noreferrer nofollow" target="_blank">open the offer</a></dd></div>
        ) : null}
      </dl>
    </div>
  );
}

/** The details of one offer, read when opened. */
export function FlightDetailsPanel({ id, adults }: { id: string; adults: number }) {
  const { data, error, loading, refetch } = useQuery(FlightDetails, { variables: { id } });
  if (error && !data) {
    return (
      <p className="form-error" role="alert">
        Could not load this flight ({CombinedGraphQLErrors.is(error) ? error.errors.map((e) => e.message).join("; ") : "the server did not answer"}).{" "}
        <button type="button" className="secondary" onClick={() => void refetch()}>Try again</button>
      </p>
    );
  }
  if (loading && !data) return <p className="muted" aria-busy="true">Loading the itinerary…</p>;
  const offer = data?.flight;
  if (!offer) return <p className="muted">This flight is no longer here.</p>;
  return <Itinerary offer={offer} adults={adults} />;
}
