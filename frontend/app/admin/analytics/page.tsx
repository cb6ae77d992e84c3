import type { Metadata } from "next";

import { BookingStats } from "@/components/bookings/documents";
import { money } from "@/lib/format";
import { serverQuery } from "@/lib/server";

export const metadata: Metadata = { title: "Analytics" };

function day(offset: number): string {
  const d = new Date();
  d.setUTCDate(d.getUTCDate() + offset);
  return d.toISOString().slice(0, 10);
}

/** The last 30 days per route and currency, as the analytics consumer keeps them. */
export default async function AnalyticsPage() {
  const from = day(-29);
  const to = day(0);
  const data = await serverQuery(BookingStats, { from, to });
  const rows = data.bookingStats;
  return (
    <>
      <h1>Analytics</h1>
      <p className="muted">From {from} to {to} (UTC), by the day bookings were made; a moment behind the bookings themselves.</p>
      {rows.length === 0 ? (
        <p className="muted">No bookings or finished searches in these 30 days.</p>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Day</th>
                <th scope="col">Route</th>
                <th scope="col">Bookings</th>
                <th scope="col">Seats</th>
                <th scope="col">Revenue</th>
                <th scope="col">Cancelled</th>
                <th scope="col">Refunded</th>
                <th scope="col">Searches</th>
                <th scope="col">Best price found</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={`${r.day}-${r.origin}-${r.destination}-${r.currency}`} data-testid="stats-row">
                  <td>{r.day}</td>
                  <td>{r.origin} → {r.destination}</td>
                  <td>{r.bookings.toLocaleString("en")}</td>
                  <td>{r.seats.toLocaleString("en")}</td>
                  <td>{money(r.revenue)}</td>
                  <td>{r.cancellations.toLocaleString("en")}</td>
                  <td>{money(r.refunded)}</td>
                  <td>{r.searches.toLocaleString("en")}</td>
                  <td>{money(r.bestPrice)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
