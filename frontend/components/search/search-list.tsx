"use client";

import Link from "next/link";

import type { MySearchesQuery } from "@/gql/graphql";
import { useSeededQuery } from "@/lib/hooks";

import { MySearches } from "./documents";
import { JobTable } from "./job-row";

/** The user's searches, newest first, each one's progress live. */
export function SearchList({ initial }: { initial: MySearchesQuery }) {
  const { data } = useSeededQuery(MySearches, {}, initial);
  const jobs = (data ?? initial).jobs.nodes;
  if (jobs.length === 0) {
    return (
      <div className="panel">
        <p>No searches yet.</p>
        <Link className="button" href="/searches/new">Start a search</Link>
      </div>
    );
  }
  return <div className="panel"><JobTable jobs={jobs} /></div>;
}
