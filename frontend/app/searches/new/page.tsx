import type { Metadata } from "next";

import { SearchForm } from "@/components/search/search-form";
import { graphql } from "@/gql";
import { serverQuery } from "@/lib/server";

export const metadata: Metadata = { title: "New search" };

const Providers = graphql(`
  query SearchProviders {
    providers { name kind enabled }
  }
`);

export default async function NewSearchPage() {
  const data = await serverQuery(Providers, {});
  return (
    <>
      <h1>New search</h1>
      <SearchForm providers={data.providers} />
    </>
  );
}
