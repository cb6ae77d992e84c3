import type { Metadata } from "next";
import Link from "next/link";

import { MySearches } from "@/components/search/documents";
import { SearchList } from "@/components/search/search-list";
import { serverQuery } from "@/lib/server";

export const metadata: Metadata = { title: "My searches" };

export default async function SearchesPage() {
  const data = await serverQuery(MySearches, {});
  return (
    <>
      <div className="row" style={{ justifyContent: "space-between", alignItems: "center" }}>
        <h1>My searches</h1>
        <Link className="button" href="/searches/new">New search</Link>
      </div>
      <SearchList initial={data} />
    </>
  );
}
