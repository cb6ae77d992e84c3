"use client";

import Link from "next/link";

import type { JobSummaryFragment } from "@/gql/graphql";
import { LinkPending } from "@/components/layout/link-pending";
import { eta } from "@/lib/format";
import { useFormat } from "@/lib/locale";

import { ProgressBar } from "./progress-bar";
import { searchTitle, specSummary } from "./spec";
import { useLiveJob } from "./use-live-job";


/** One search in a list, its progress live. */
export function JobRow({ job, showOwner }: { job: JobSummaryFragment & { owner?: { email: string } | null }; showOwner?: boolean }) {
  useLiveJob(job.id, job.status);
  const f = useFormat();
  const title = searchTitle(job);
  return (
    <tr data-job-id={job.id}>
      <td>
        <Link href={`/searches/${job.id}`}>{title}<LinkPending /></Link>
        <div className="muted small" data-testid="job-summary">{specSummary(job.spec, f.locale)}</div>
        {showOwner && job.owner ? <div className="muted">{job.owner.email}</div> : null}
      </td>
      <td data-label="Status"><span className={`status ${job.status}`}>{job.status}</span></td>
      <td data-label="Progress" style={{ minWidth: "9rem" }}>
        <div style={{ flex: 1 }}>
          <ProgressBar percent={job.percent} label={`Progress of ${title}`} />
          <div className="muted">
            {f.count(job.completedTasks)} / {f.count(job.totalTasks)}
            {job.status === "RUNNING" ? ` · ETA ${eta(job.etaSeconds)}` : ""}
          </div>
        </div>
      </td>
      <td data-label="Flights">{f.count(job.foundFlights)}</td>
      <td data-label="Best price">{f.money(job.bestPrice)}</td>
    </tr>
  );
}

export function JobTable({ jobs, showOwner }: { jobs: (JobSummaryFragment & { owner?: { email: string } | null })[]; showOwner?: boolean }) {
  return (
    <div className="table-wrap">
      <table className="cards">
        <thead>
          <tr>
            <th scope="col">Search</th>
            <th scope="col">Status</th>
            <th scope="col">Progress</th>
            <th scope="col">Flights</th>
            <th scope="col">Best price</th>
          </tr>
        </thead>
        <tbody>
          {jobs.map((job) => <JobRow key={job.id} job={job} showOwner={showOwner} />)}
        </tbody>
      </table>
    </div>
  );
}
