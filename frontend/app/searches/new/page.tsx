import type { Metadata } from "next";

import { SearchPage } from "@/components/search/documents";
import { SearchForm } from "@/components/search/search-form";
import { searchAgainInput } from "@/components/search/spec";
import { graphql } from "@/gql";
import { serverQuery } from "@/lib/server";

export const metadata: Metadata = { title: "New search" };

const Providers = graphql(`
  query SearchProviders {
    providers { name kind enabled }
  }
`);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A new search; with `?from=ID`, filled in from that search ("edit as new"). */
export default async function NewSearchPage({ searchParams }: { searchParams: Promise<{ from?: string }> }) {
  const { from } = await searchParams;
  const [data, earlier] = await Promise.all([
    serverQuery(Providers, {}),
    from && UUID.test(from) ? serverQuery(SearchPage, { id: from }) : Promise.resolve(null),
  ]);
  const job = earlier?.job;
  const defaults = job ? (({ moved: _moved, ...input }) => input)(searchAgainInput(job.spec, job.label ? `${job.label} (copy)` : null)) : undefined;
  return (
    <>
      <h1>{job ? "New search, from an earlier one" : "New search"}</h1>
      <SearchForm providers={data.providers} defaults={defaults} />
    </>
  );
}
