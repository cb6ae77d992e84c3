"use client";

import { useQuery } from "@apollo/client/react";
import { useState } from "react";

import type { CalendarQuery } from "@/gql/graphql";
import { Calendar } from "@/components/search/documents";
import { StaleNotice } from "@/components/layout/stale-notice";
import { useSeededQuery, useThrottledRefetch } from "@/lib/hooks";
import { useFormat } from "@/lib/locale";

type Cell = CalendarQuery["priceCalendar"][number];

/** The grid of every departure × return date is offered up to this many of each. */
const GRID_MAX = 31;

/** Green for the cheapest fare, red for the dearest. */
function shade(price: number, low: number, high: number): string {
  const t = high > low ? (price - low) / (high - low) : 0;
  const hue = 120 - 120 * t;
  return `hsl(${hue.toFixed(0)} 70% 82%)`;
}

const DAY_MS = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const ms = (day: string) => Date.parse(`${day}T00:00:00Z`);
const nightsOf = (c: Cell) => (c.returnDate ? Math.round((ms(c.returnDate) - ms(c.departureDate)) / DAY_MS) : null);

/**
 * The cheapest fare per departure date, a month at a time, for one trip length or any, and
 * for one destination or all; a day's click shows its flights. Short windows can also be
 * seen as the full departure × return grid.
 */
export function PriceCalendar({ jobId, foundFlights, seededAt, initial, destinations, nights, from, to, onPick }: {
  jobId: string;
  foundFlights: number;
  seededAt: number;
  /** Null when the server did not render the calendar: it is read when the tab opens. */
  initial: CalendarQuery | null;
  destinations: string[];
  nights: { min: number; max: number } | null;
  from: string;
  to: string;
  /** A day was chosen: show its flights (and the return date, when a trip length was chosen). */
  onPick: (departure: string, back: string | null) => void;
}) {
  const f = useFormat();
  const [destination, setDestination] = useState("");
  const [length, setLength] = useState<number | null>(null);
  const [view, setView] = useState<"month" | "grid">("month");
  const seeded = useSeededQuery(Calendar, { jobId, destinations: null }, initial);
  // One destination's calendar is a query of its own; "all" is the server-rendered one.
  const one = useQuery(Calendar, { variables: { jobId, destinations: [destination] }, skip: !destination });
  useThrottledRefetch(foundFlights, () => (destination ? one.refetch() : seeded.refetch()), 2000, seededAt);
  const error = destination ? one.error : seeded.error;
  const current = destination ? one.data ?? one.previousData : seeded.data ?? seeded.previousData ?? initial;
  if (!current) {
    const busy = destination ? one.loading : seeded.loading;
    return busy ? <p className="muted" aria-busy="true">Loading the calendar…</p> : <StaleNotice error={error} />;
  }
  const all = current.priceCalendar;
  const cells = length == null ? all : all.filter((c) => nightsOf(c) === length);

  // The cheapest per departure date.
  const best = new Map<string, Cell>();
  for (const c of cells) {
    const seen = best.get(c.departureDate);
    if (!seen || c.price.minorUnits < seen.price.minorUnits) best.set(c.departureDate, c);
  }
  const prices = [...best.values()].map((c) => c.price.minorUnits);
  const low = Math.min(...prices);
  const high = Math.max(...prices);
  const departures = [...new Set(all.map((c) => c.departureDate))];
  const returns = [...new Set(all.map((c) => c.returnDate ?? ""))];
  const gridFits = departures.length <= GRID_MAX && returns.length <= GRID_MAX;
  const compact = (c: Cell) => f.money({ ...c.price, amount: c.price.amount }).replace(/[.,]\d+(?=\D*$)/, "");
  const cheapest = [...best.values()].find((c) => c.price.minorUnits === low);

  const lengths = nights ? Array.from({ length: nights.max - nights.min + 1 }, (_, i) => nights.min + i) : [];
  return (
    <>
      <StaleNotice error={error} />
      <div className="row calendar-controls">
        {lengths.length > 1 ? (
          <div className="field">
            <label htmlFor="cal-length">Trip length</label>
            <select id="cal-length" value={length ?? ""} onChange={(e) => setLength(e.target.value === "" ? null : Number(e.target.value))}>
              <option value="">Any ({nights?.min}–{nights?.max} nights)</option>
              {lengths.map((n) => <option key={n} value={n}>{n} night{n === 1 ? "" : "s"}</option>)}
            </select>
          </div>
        ) : null}
        {destinations.length > 1 ? (
          <div className="field">
            <label htmlFor="cal-destination">Destination</label>
            <select id="cal-destination" value={destination} onChange={(e) => setDestination(e.target.value)}>
              <option value="">All ({destinations.join(", ")})</option>
              {destinations.map((d) => <option key={d} value={d}>{d}</option>)}
            </select>
          </div>
        ) : null}
        {gridFits && nights ? (
          <div className="field">
            <label htmlFor="cal-view">View</label>
            <select id="cal-view" value={view} onChange={(e) => setView(e.target.value as "month" | "grid")}>
              <option value="month">Months</option>
              <option value="grid">Every departure × return date</option>
            </select>
          </div>
        ) : null}
      </div>
      {best.size === 0 ? (
        <p className="muted">{all.length === 0 ? "No fares yet." : "No fares for this trip length."}</p>
      ) : view === "grid" && gridFits && nights ? (
        <Grid cells={cells} low={low} high={high} onPick={onPick} />
      ) : (
        <Months from={from} to={to} best={best} low={low} high={high} compact={compact} onPick={(c) => onPick(c.departureDate, length != null ? c.returnDate ?? null : null)} />
      )}
      {cheapest ? (
        <p className="muted">
          Cheapest: {f.money(cheapest.price)}, leaving {f.day(cheapest.departureDate)}
          {cheapest.returnDate ? `, back ${f.day(cheapest.returnDate)}` : ""}. Choose a day to see its flights.
        </p>
      ) : null}
    </>
  );
}

function Months({ from, to, best, low, high, compact, onPick }: {
  from: string;
  to: string;
  best: Map<string, Cell>;
  low: number;
  high: number;
  compact: (c: Cell) => string;
  onPick: (c: Cell) => void;
}) {
  const f = useFormat();
  const months: { key: string; first: number }[] = [];
  const start = new Date(ms(from));
  for (let d = Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), 1); d <= ms(to); ) {
    months.push({ key: iso(d).slice(0, 7), first: d });
    const next = new Date(d);
    next.setUTCMonth(next.getUTCMonth() + 1);
    d = next.getTime();
  }
  const monthName = new Intl.DateTimeFormat(f.locale, { month: "long", year: "numeric", timeZone: "UTC" });
  const weekday = new Intl.DateTimeFormat(f.locale, { weekday: "narrow", timeZone: "UTC" });
  // Monday first: 2024-01-01 was a Monday.
  const heads = Array.from({ length: 7 }, (_, i) => weekday.format(Date.UTC(2024, 0, 1 + i)));
  return (
    <div className="months">
      {months.map(({ key, first }) => {
        const firstDay = new Date(first);
        const days = new Date(Date.UTC(firstDay.getUTCFullYear(), firstDay.getUTCMonth() + 1, 0)).getUTCDate();
        const lead = (firstDay.getUTCDay() + 6) % 7;
        return (
          <section key={key} className="month" aria-label={monthName.format(first)}>
            <h3>{monthName.format(first)}</h3>
            <div className="month-grid" role="grid" aria-label={`Cheapest fare per departure day, ${monthName.format(first)}`}>
              {heads.map((h, i) => <div key={`h${i}`} className="weekday" aria-hidden="true">{h}</div>)}
              {Array.from({ length: lead }, (_, i) => <div key={`b${i}`} />)}
              {Array.from({ length: days }, (_, i) => {
                const day = iso(first + i * DAY_MS);
                const cell = best.get(day);
                const inWindow = day >= from && day <= to;
                return cell ? (
                  <button
                    key={day}
                    type="button"
                    className="day"
                    data-testid="calendar-day"
                    data-date={day}
                    style={{ background: shade(cell.price.minorUnits, low, high) }}
                    aria-label={`Leaving ${f.day(day)}: from ${f.money(cell.price)}${cell.returnDate ? `, back ${f.day(cell.returnDate)}` : ""}. Show these flights.`}
                    onClick={() => onPick(cell)}
                  >
                    <span className="date">{i + 1}</span>
                    <span className="fare">{compact(cell)}</span>
                  </button>
                ) : (
                  <div key={day} className={`day empty${inWindow ? "" : " outside"}`} aria-label={inWindow ? `${f.day(day)}: no fare yet` : undefined}>
                    <span className="date">{i + 1}</span>
                  </div>
                );
              })}
            </div>
          </section>
        );
      })}
    </div>
  );
}

/** Every departure (rows) × return (columns) date, for windows short enough to read it. */
function Grid({ cells, low, high, onPick }: { cells: Cell[]; low: number; high: number; onPick: (departure: string, back: string | null) => void }) {
  const f = useFormat();
  const departures = [...new Set(cells.map((c) => c.departureDate))].sort();
  const returns = [...new Set(cells.map((c) => c.returnDate ?? ""))].sort();
  const at = new Map(cells.map((c) => [`${c.departureDate}|${c.returnDate ?? ""}`, c]));
  return (
    <div className="table-wrap grid-wrap">
      <table className="calendar" aria-label="Cheapest fare by departure and return date">
        <thead>
          <tr>
            <th scope="col">Leave ↓ back →</th>
            {returns.map((r) => <th scope="col" key={r}>{r ? f.day(r, { weekday: false }) : "one way"}</th>)}
          </tr>
        </thead>
        <tbody>
          {departures.map((d) => (
            <tr key={d}>
              <th scope="row">{f.day(d, { weekday: false })}</th>
              {returns.map((r) => {
                const cell = at.get(`${d}|${r}`);
                return cell ? (
                  <td key={r} className="cell" style={{ background: shade(cell.price.minorUnits, low, high) }}>
                    <button type="button" className="link-button" aria-label={`Leave ${f.day(d)}, back ${f.day(r)}: ${f.money(cell.price)}. Show these flights.`} onClick={() => onPick(d, r || null)}>
                      {f.money(cell.price)}
                    </button>
                  </td>
                ) : (
                  <td key={r} aria-label={`Leave ${f.day(d)}${r ? `, back ${f.day(r)}` : ""}: no fare`} />
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
