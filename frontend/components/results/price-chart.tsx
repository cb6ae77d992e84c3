"use client";

import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

import type { PriceHistoryQuery } from "@/gql/graphql";
import { PriceHistory } from "@/components/search/documents";
import { money } from "@/lib/format";
import { useSeededQuery, useThrottledRefetch } from "@/lib/hooks";

/** Seconds since the search began, in units that suit how long it has run. */
function elapsed(seconds: number, span: number): string {
  if (span < 60) return `${seconds.toFixed(span < 10 ? 1 : 0)} s`;
  if (span < 7200) return `${(seconds / 60).toFixed(span < 600 ? 1 : 0)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/** The best price found so far, over the search's running time. */
export function PriceChart({ jobId, bestPrice, seededAt, initial }: {
  jobId: string;
  bestPrice: number | null;
  seededAt: number | null;
  initial: PriceHistoryQuery;
}) {
  const { data, refetch } = useSeededQuery(PriceHistory, { id: jobId }, initial);
  useThrottledRefetch(bestPrice, () => refetch(), 2000, seededAt);
  const history = (data ?? initial).job?.bestPriceHistory ?? [];
  if (history.length === 0) return <p className="muted">No fares yet.</p>;
  const currency = history[0].price.currency;
  const points = history.map((p) => ({ t: new Date(p.at).getTime(), price: Number(p.price.amount), label: money(p.price) }));
  const first = points[0].t;
  const last = points[points.length - 1];
  return (
    <figure style={{ margin: 0 }}>
      <div style={{ width: "100%", height: 260 }}>
        <ResponsiveContainer>
          <LineChart data={points} margin={{ top: 10, right: 20, bottom: 10, left: 10 }}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis
              dataKey="t"
              type="number"
              domain={["dataMin", "dataMax"]}
              tickFormatter={(t: number) => elapsed((t - first) / 1000, (last.t - first) / 1000)}
            />
            <YAxis dataKey="price" domain={["auto", "auto"]} width={70} />
            <Tooltip
              labelFormatter={(t) => new Date(Number(t)).toLocaleTimeString()}
              formatter={(v) => [`${Number(v).toFixed(2)} ${currency}`, "best price"]}
            />
            <Line type="stepAfter" dataKey="price" stroke="#1f5fd6" dot={false} isAnimationActive={false} />
          </LineChart>
        </ResponsiveContainer>
      </div>
      <figcaption className="muted">
        Best price over time: {points.length} improvements, now {last.label}.
      </figcaption>
    </figure>
  );
}
