import type { FlightFilter, FlightOrder } from "@/gql/graphql";
import { exponent } from "@/lib/format";

// The search page's state lives in its URL, so that reload, Back and Forward and a shared
// link all show the same thing. The server page and the client components read it here.

export type Tab = "results" | "calendar" | "chart";

export const SORTS = ["price", "departure", "arrival", "duration", "stops"] as const;
export type SortKey = (typeof SORTS)[number];

export type PageState = {
  tab: Tab;
  sort: SortKey;
  descending: boolean;
  /** The cursors of the pages before this one, first page's last cursor first. */
  cursors: string[];
  /** The offer whose details are open. */
  flight: string | null;
  stops: string;
  airlines: string[];
  maxPrice: string;
  maxHours: string;
  from: string[];
  to: string[];
  day: string;
  back: string;
  /** Local departure time windows, `HH:MM-HH:MM`, outbound and return. */
  leaves: string;
  returns: string;
};

/** Parts of the day the filters offer; a window from the URL that is not one shows as itself. */
export const TIMES_OF_DAY: { window: string; label: string }[] = [
  { window: "00:00-05:59", label: "Night (before 06:00)" },
  { window: "06:00-11:59", label: "Morning (06:00–11:59)" },
  { window: "12:00-17:59", label: "Afternoon (12:00–17:59)" },
  { window: "18:00-23:59", label: "Evening (from 18:00)" },
];

const WINDOW = /^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$/;

/** A `HH:MM-HH:MM` window as the API takes it; one whose start is after its end runs past midnight. */
export function timeWindow(raw: string): { from: string; to: string } | null {
  if (!WINDOW.test(raw)) return null;
  const [from, to] = raw.split("-");
  return { from, to };
}

/** A window in words, for a chip. */
export function windowLabel(raw: string): string {
  const named = TIMES_OF_DAY.find((t) => t.window === raw);
  return named ? named.label.replace(/ \(.*\)$/, "").toLowerCase() : raw.replace("-", "–");
}

type Params = { get(name: string): string | null };

/** URLSearchParams, or a server page's `searchParams` object, read the same way. */
export function paramsOf(record: Record<string, string | string[] | undefined>): Params {
  return { get: (name) => { const v = record[name]; return Array.isArray(v) ? v[0] ?? null : v ?? null; } };
}

const list = (raw: string | null) => (raw ?? "").split(",").map((s) => s.trim().toUpperCase()).filter(Boolean);
const DATE = /^\d{4}-\d{2}-\d{2}$/;

export function readState(params: Params): PageState {
  const rawSort = params.get("sort") ?? "price";
  const descending = rawSort.startsWith("-");
  const key = rawSort.replace(/^-/, "");
  const tab = params.get("tab");
  const stops = params.get("stops") ?? "";
  const day = params.get("day") ?? "";
  const back = params.get("back") ?? "";
  return {
    tab: tab === "calendar" || tab === "chart" ? tab : "results",
    sort: (SORTS as readonly string[]).includes(key) ? (key as SortKey) : "price",
    descending: (SORTS as readonly string[]).includes(key) && descending,
    cursors: (params.get("after") ?? "").split(".").filter((c) => /^[A-Za-z0-9_-]{1,400}$/.test(c)).slice(0, 200),
    flight: params.get("flight"),
    stops: ["0", "1", "2"].includes(stops) ? stops : "",
    airlines: list(params.get("airlines")),
    maxPrice: params.get("maxPrice") ?? "",
    maxHours: params.get("maxHours") ?? "",
    from: list(params.get("from")),
    to: list(params.get("to")),
    day: DATE.test(day) ? day : "",
    back: DATE.test(back) ? back : "",
    leaves: timeWindow(params.get("leaves") ?? "") ? params.get("leaves") ?? "" : "",
    returns: timeWindow(params.get("returns") ?? "") ? params.get("returns") ?? "" : "",
  };
}

/** The state as URL parameters, defaults left out. */
export function writeState(state: PageState): URLSearchParams {
  const out = new URLSearchParams();
  const put = (name: string, value: string) => {
    if (value) out.set(name, value);
  };
  put("tab", state.tab === "results" ? "" : state.tab);
  put("sort", state.sort === "price" && !state.descending ? "" : `${state.descending ? "-" : ""}${state.sort}`);
  put("stops", state.stops);
  put("airlines", state.airlines.join(","));
  put("maxPrice", state.maxPrice);
  put("maxHours", state.maxHours);
  put("from", state.from.join(","));
  put("to", state.to.join(","));
  put("day", state.day);
  put("back", state.back);
  put("leaves", state.leaves);
  put("returns", state.returns);
  put("after", state.cursors.join("."));
  put("flight", state.flight ?? "");
  return out;
}

export function orderOf(state: Pick<PageState, "sort" | "descending">): FlightOrder {
  return `${state.sort.toUpperCase()}_${state.descending ? "DESC" : "ASC"}` as FlightOrder;
}

/** The filter the API is asked with; a price or duration that does not read is left out. */
export function filterOf(state: PageState, currency: string): FlightFilter {
  const price = Number(state.maxPrice);
  const hours = Number(state.maxHours);
  const filter: FlightFilter = {};
  if (state.stops !== "") filter.maxStops = Number(state.stops);
  if (state.airlines.length) filter.carriers = state.airlines;
  if (state.maxPrice !== "" && Number.isFinite(price) && price >= 0) filter.maxPrice = Math.round(price * 10 ** exponent(currency));
  if (state.maxHours !== "" && Number.isFinite(hours) && hours > 0) filter.maxDurationMinutes = Math.round(hours * 60);
  if (state.from.length) filter.origins = state.from;
  if (state.to.length) filter.destinations = state.to;
  if (state.day) filter.departureDate = state.day;
  if (state.back) filter.returnDate = state.back;
  const leaves = timeWindow(state.leaves);
  if (leaves) filter.departureTime = leaves;
  const returns = timeWindow(state.returns);
  if (returns) filter.returnTime = returns;
  return filter;
}

/** Whether any filter is set. */
export function filtered(state: PageState): boolean {
  return Boolean(state.stops || state.airlines.length || state.maxPrice || state.maxHours || state.from.length || state.to.length || state.day || state.back || state.leaves || state.returns);
}
