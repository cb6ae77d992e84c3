"use client";

import type { AllSearchesQuery } from "@/gql/graphql";
import { JobTable } from "@/components/search/job-row";
import { useSeededQuery } from "@/lib/hooks";

import { AllSearches } from "./documents";

export function AllSearchesPanel({ initial }: { initial: AllSearchesQuery }) {
  const { data } = useSeededQuery(AllSearches, {}, initial);
  const jobs = (data ?? initial).jobs.nodes;
  return <div className="panel">{jobs.length ? <JobTable jobs={jobs} showOwner /> : <p>No searches yet.</p>}</div>;
}
