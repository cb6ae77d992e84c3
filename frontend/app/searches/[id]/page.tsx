import type { Metadata } from "next";
import { notFound } from "next/navigation";

import { Calendar, Flights, PriceHistory, SearchPage } from "@/components/search/documents";
import { SearchDetail } from "@/components/search/search-detail";
import { filterOf, orderOf, paramsOf, readState } from "@/components/results/flight-params";
import { PAGE_SIZE } from "@/components/results/page-size";
import { searchTitle } from "@/components/search/spec";
import { serverQuery } from "@/lib/server";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type Props = {
  params: Promise<{ id: string }>;
  searchParams: Promise<Record<string, string | string[] | undefined>>;
};

/** The tab is titled after the search (its name, or its route). */
export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { id } = await params;
  if (!UUID.test(id)) return { title: "Search" };
  const page = await serverQuery(SearchPage, { id });
  return { title: page.job ? searchTitle(page.job) : "Search" };
}

export default async function SearchPageRoute({ params, searchParams }: Props) {
  const { id } = await params;
  if (!UUID.test(id)) notFound();
  // The search first: another user's search is NOT_FOUND here, before anything else is asked.
  const page = await serverQuery(SearchPage, { id });
  const currency = page.job?.spec.currency ?? "EUR";
  // The results as the URL asks for them (sort, filters, page), so a reload shows the same.
  const state = readState(paramsOf(await searchParams));
  const first = { jobId: id, first: PAGE_SIZE, after: null, orderBy: "PRICE_ASC" as const, filter: {} };
  const asked = { ...first, after: state.cursors.at(-1) ?? null, orderBy: orderOf(state), filter: filterOf(state, currency) };
  const [flights, calendar, history] = await Promise.all([
    // A hand-edited cursor the API refuses: the first page instead (the table says why).
    serverQuery(Flights, asked).catch((e: unknown) => {
      if (JSON.stringify(asked) === JSON.stringify(first)) throw e;
      return serverQuery(Flights, first);
    }),
    // Aggregates over every offer: read with the page only when their tab is open.
    state.tab === "calendar" ? serverQuery(Calendar, { jobId: id, destinations: null }) : null,
    state.tab === "chart" ? serverQuery(PriceHistory, { id }) : null,
  ]);
  return <SearchDetail id={id} initial={{ page, flights, calendar, history }} />;
}
