"use client";

import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

/** Seconds since the search began, in units that suit how long it has run. */
function elapsed(seconds: number, span: number): string {
  if (span < 60) return `${seconds.toFixed(span < 10 ? 1 : 0)} s`;
  if (span < 7200) return `${(seconds / 60).toFixed(span < 600 ? 1 : 0)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

export type PricePoint = { t: number; price: number };

/** The drawing itself: recharts, loaded only when the chart tab opens. */
export default function PriceLine({ points, money }: { points: PricePoint[]; money: (amount: number) => string }) {
  const first = points[0].t;
  const span = (points[points.length - 1].t - first) / 1000;
  return (
    <ResponsiveContainer>
      <LineChart data={points} margin={{ top: 10, right: 20, bottom: 10, left: 10 }}>
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis
          dataKey="t"
          type="number"
          domain={["dataMin", "dataMax"]}
          tickFormatter={(t: number) => elapsed((t - first) / 1000, span)}
        />
        <YAxis dataKey="price" domain={["auto", "auto"]} width={70} />
        <Tooltip
          labelFormatter={(t) => new Date(Number(t)).toLocaleTimeString()}
          formatter={(v) => [money(Number(v)), "best price"]}
        />
        {/* A single point draws no line: show it as a dot. */}
        <Line type="stepAfter" dataKey="price" stroke="#1f5fd6" dot={points.length < 2} isAnimationActive={false} />
      </LineChart>
    </ResponsiveContainer>
  );
}
