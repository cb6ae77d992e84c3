"use client";

import dynamic from "next/dynamic";

import type { PriceHistoryQuery } from "@/gql/graphql";
import { PriceHistory } from "@/components/search/documents";
import { useFormat } from "@/lib/locale";
import { StaleNotice } from "@/components/layout/stale-notice";
import { useSeededQuery, useThrottledRefetch } from "@/lib/hooks";

// recharts is most of a search page's JavaScript; only the chart tab needs it.
const PriceLine = dynamic(() => import("./price-line"), {
  ssr: false,
  loading: () => <p className="muted">Drawing the chart…</p>,
});

/**
 * The best price found so far, over the search's running time. The line goes on at the
 * last best price until `until` (the search's end, or its latest checkpoint while it runs),
 * so a search that found its best price early still draws one.
 */
export function PriceChart({ jobId, bestPrice, until, seededAt, initial }: {
  jobId: string;
  bestPrice: number | null;
  until: string;
  seededAt: number | null;
  /** Null when the server did not render the chart: it is read when the tab opens. */
  initial: PriceHistoryQuery | null;
}) {
  const f = useFormat();
  const { data, previousData, error, loading, refetch } = useSeededQuery(PriceHistory, { id: jobId }, initial);
  useThrottledRefetch(bestPrice, () => refetch(), 2000, seededAt);
  const read = data ?? previousData ?? initial;
  if (!read) return loading ? <p className="muted" aria-busy="true">Loading the price history…</p> : <StaleNotice error={error} />;
  const history = read.job?.bestPriceHistory ?? [];
  if (history.length === 0) return <><StaleNotice error={error} /><p className="muted">No fares yet.</p></>;
  const currency = history[0].price.currency;
  const points = history.map((p) => ({ t: new Date(p.at).getTime(), price: Number(p.price.amount) }));
  const last = points[points.length - 1];
  const end = new Date(until).getTime();
  if (end > last.t) points.push({ t: end, price: last.price });
  return (
    <figure style={{ margin: 0 }}>
      <StaleNotice error={error} />
      <div style={{ width: "100%", height: 260 }} data-testid="price-chart">
        <PriceLine points={points} money={(amount) => f.money({ amount: String(amount), currency })} />
      </div>
      <figcaption className="muted">
        Best price over time: {history.length === 1 ? "found once" : `${history.length} improvements`}, now{" "}
        {f.money(history[history.length - 1].price)}.
      </figcaption>
    </figure>
  );
}
