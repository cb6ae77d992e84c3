import type { Metadata } from "next";
import { notFound } from "next/navigation";

import { Calendar, Flights, PriceHistory, SearchPage } from "@/components/search/documents";
import { SearchDetail } from "@/components/search/search-detail";
import { PAGE_SIZE } from "@/components/results/page-size";
import { serverQuery } from "@/lib/server";

export const metadata: Metadata = { title: "Search" };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export default async function SearchPageRoute({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  if (!UUID.test(id)) notFound();
  // The search first: another user's search is NOT_FOUND here, before anything else is asked.
  const page = await serverQuery(SearchPage, { id });
  const [flights, calendar, history] = await Promise.all([
    serverQuery(Flights, { jobId: id, first: PAGE_SIZE, after: null, orderBy: "PRICE_ASC", filter: {} }),
    serverQuery(Calendar, { jobId: id }),
    serverQuery(PriceHistory, { id }),
  ]);
  return <SearchDetail id={id} initial={{ page, flights, calendar, history }} />;
}
