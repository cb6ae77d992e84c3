"use client";

import type { CalendarQuery } from "@/gql/graphql";
import { Calendar } from "@/components/search/documents";
import { money, shortDate } from "@/lib/format";
import { StaleNotice } from "@/components/layout/stale-notice";
import { useSeededQuery, useThrottledRefetch } from "@/lib/hooks";

/** Green for the cheapest fare, red for the dearest. */
function shade(price: number, low: number, high: number): string {
  const t = high > low ? (price - low) / (high - low) : 0;
  const hue = 120 - 120 * t;
  return `hsl(${hue.toFixed(0)} 70% 82%)`;
}

/**
 * The cheapest fare per departure date (rows) and return date (columns): a heat map, as
 * the search fills it in.
 */
export function PriceCalendar({ jobId, foundFlights, seededAt, initial }: {
  jobId: string;
  foundFlights: number;
  seededAt: number;
  initial: CalendarQuery;
}) {
  const { data, previousData, error, refetch } = useSeededQuery(Calendar, { jobId }, initial);
  useThrottledRefetch(foundFlights, () => refetch(), 2000, seededAt);
  const cells = (data ?? previousData ?? initial).priceCalendar;
  if (cells.length === 0) return <><StaleNotice error={error} /><p className="muted">No fares yet.</p></>;
  const departures = [...new Set(cells.map((c) => c.departureDate))].sort();
  const returns = [...new Set(cells.map((c) => c.returnDate ?? ""))].sort();
  const prices = cells.map((c) => c.price.minorUnits);
  const low = Math.min(...prices);
  const high = Math.max(...prices);
  const at = new Map(cells.map((c) => [`${c.departureDate}|${c.returnDate ?? ""}`, c]));
  return (
    <>
    <StaleNotice error={error} />
    <div className="table-wrap">
      <table className="calendar" aria-label="Cheapest fare by departure and return date">
        <thead>
          <tr>
            <th scope="col">Depart ↓ / Return →</th>
            {returns.map((r) => <th scope="col" key={r}>{r ? shortDate(r) : "one way"}</th>)}
          </tr>
        </thead>
        <tbody>
          {departures.map((d) => (
            <tr key={d}>
              <th scope="row">{shortDate(d)}</th>
              {returns.map((r) => {
                const cell = at.get(`${d}|${r}`);
                return cell ? (
                  <td
                    key={r}
                    className="cell"
                    style={{ background: shade(cell.price.minorUnits, low, high) }}
                    title={`${cell.offers} offers`}
                    aria-label={`Depart ${d}${r ? `, return ${r}` : ""}: ${money(cell.price)}`}
                  >
                    {money(cell.price)}
                  </td>
                ) : (
                  <td key={r} aria-label={`Depart ${d}${r ? `, return ${r}` : ""}: no fare`} />
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
      <p className="muted">Cheapest: {money(cells.find((c) => c.price.minorUnits === low)?.price)} · dearest: {money(cells.find((c) => c.price.minorUnits === high)?.price)}</p>
    </div>
    </>
  );
}
