"use client";

import { useQuery } from "@apollo/client/react";

import type { AllSearchesQuery, JobStatus } from "@/gql/graphql";
import { JobTable } from "@/components/search/job-row";
import { StaleNotice } from "@/components/layout/stale-notice";
import { useSeed } from "@/lib/hooks";
import { useUrlState } from "@/lib/url-state";

import { AllSearches } from "./documents";

const STATUSES: JobStatus[] = ["QUEUED", "RUNNING", "PAUSED", "SUCCEEDED", "FAILED", "CANCELLED"];

type Filter = { status: JobStatus | ""; owner: string };
const read = (p: URLSearchParams): Filter => {
  const status = p.get("status") ?? "";
  return { status: (STATUSES as string[]).includes(status) ? (status as JobStatus) : "", owner: p.get("owner") ?? "" };
};
const write = (f: Filter) => {
  const out = new URLSearchParams();
  if (f.status) out.set("status", f.status);
  if (f.owner) out.set("owner", f.owner);
  return out;
};

/** Every account's searches, by status and account (both kept in the URL). */
export function AllSearchesPanel({ initial, seeded }: { initial: AllSearchesQuery; seeded: { status: JobStatus | null; ownerEmail: string | null } }) {
  const [filter, setFilter] = useUrlState(read, write);
  useSeed(AllSearches, seeded, initial);
  const variables = { status: filter.status || null, ownerEmail: filter.owner || null };
  const { data, previousData, loading, error } = useQuery(AllSearches, { variables });
  const jobs = (data ?? previousData ?? initial).jobs.nodes;
  return (
    <div className="panel">
      <form
        key={`${filter.status}|${filter.owner}`}
        className="row"
        aria-label="Filter searches"
        onSubmit={(e) => {
          e.preventDefault();
          const form = new FormData(e.currentTarget);
          setFilter({ status: String(form.get("status") ?? "") as JobStatus | "", owner: String(form.get("owner") ?? "").trim() });
        }}
      >
        <div className="field">
          <label htmlFor="s-owner">Account (email)</label>
          <input id="s-owner" name="owner" type="email" defaultValue={filter.owner} placeholder="anyone" />
        </div>
        <div className="field">
          <label htmlFor="s-status">Status</label>
          <select id="s-status" name="status" defaultValue={filter.status}>
            <option value="">Any</option>
            {STATUSES.map((s) => <option key={s} value={s}>{s}</option>)}
          </select>
        </div>
        <button type="submit" className="secondary">Show</button>
      </form>
      <StaleNotice error={error} />
      <div aria-busy={loading}>
        {jobs.length ? (
          <JobTable jobs={jobs} showOwner />
        ) : (
          <p>{filter.owner || filter.status ? "No searches match." : "No searches yet."}</p>
        )}
      </div>
    </div>
  );
}
