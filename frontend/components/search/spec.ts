import type { Cabin, JobSummaryFragment, SearchInput } from "@/gql/graphql";
import { count, day, DEFAULT_LOCALE, money } from "@/lib/format";

type Spec = JobSummaryFragment["spec"];

const CABINS: Record<Cabin, string> = {
  ECONOMY: "economy",
  PREMIUM_ECONOMY: "premium economy",
  BUSINESS: "business",
  FIRST: "first",
};

/** A search's name: its label, or its route. */
export function searchTitle(job: Pick<JobSummaryFragment, "label" | "spec">): string {
  return job.label ?? `${job.spec.requestedOrigins.join(", ")} → ${job.spec.requestedDestinations.join(", ")}`;
}

/** What was searched, in one line: "LON → BKK, HKT · leaving Tue 5 Jan – Fri 5 Mar · 7–14 nights · …". */
export function specSummary(spec: Spec, locale: string = DEFAULT_LOCALE): string {
  const parts = [
    `${spec.requestedOrigins.join(", ")} → ${spec.requestedDestinations.join(", ")}`,
    spec.departureFrom === spec.departureTo
      ? `leaving ${day(spec.departureFrom, locale)}`
      : `leaving ${day(spec.departureFrom, locale)} – ${day(spec.departureTo, locale)}`,
    spec.nights ? (spec.nights.min === spec.nights.max ? `${spec.nights.min} nights` : `${spec.nights.min}–${spec.nights.max} nights`) : "one way",
    `${count(spec.adults, locale)} traveller${spec.adults === 1 ? "" : "s"}`,
    CABINS[spec.cabin] ?? spec.cabin,
    spec.maxStops == null ? "any stops" : spec.maxStops === 0 ? "direct only" : `at most ${spec.maxStops} stop${spec.maxStops === 1 ? "" : "s"}`,
    spec.maxPrice ? `up to ${money(spec.maxPrice, locale)}` : null,
    `prices in ${spec.currency}`,
    `from ${spec.providers.join(", ")}`,
  ];
  return parts.filter(Boolean).join(" · ");
}

function addDays(iso: string, days: number): string {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** Today in UTC, as the API counts dates. */
export function today(): string {
  return new Date().toISOString().slice(0, 10);
}

/**
 * The spec as a new search's input. A window that has started is moved forward to begin
 * today, keeping its length.
 */
export function searchAgainInput(spec: Spec, label: string | null): SearchInput & { moved: number } {
  const now = today();
  const moved = spec.departureFrom < now ? Math.round((Date.parse(now) - Date.parse(spec.departureFrom)) / 86_400_000) : 0;
  return {
    origins: spec.requestedOrigins,
    destinations: spec.requestedDestinations,
    departureFrom: addDays(spec.departureFrom, moved),
    departureTo: addDays(spec.departureTo, moved),
    nights: spec.nights ? { min: spec.nights.min, max: spec.nights.max } : null,
    adults: spec.adults,
    cabin: spec.cabin,
    maxStops: spec.maxStops ?? null,
    maxPrice: spec.maxPrice?.minorUnits ?? null,
    currency: spec.currency,
    providers: spec.providers,
    label,
    moved,
  };
}
