"use client";

import Link from "next/link";

import type { JobSummaryFragment } from "@/gql/graphql";
import { eta, money } from "@/lib/format";

import { ProgressBar } from "./progress-bar";
import { useLiveJob } from "./use-live-job";

export function searchTitle(job: Pick<JobSummaryFragment, "label" | "spec">): string {
  return job.label ?? `${job.spec.requestedOrigins.join(", ")} → ${job.spec.requestedDestinations.join(", ")}`;
}

/** One search in a list, its progress live. */
export function JobRow({ job, showOwner }: { job: JobSummaryFragment & { owner?: { email: string } | null }; showOwner?: boolean }) {
  useLiveJob(job.id, job.status);
  const title = searchTitle(job);
  return (
    <tr data-job-id={job.id}>
      <td>
        <Link href={`/searches/${job.id}`}>{title}</Link>
        <div className="muted">
          {job.spec.departureFrom} – {job.spec.departureTo}
          {job.spec.nights ? `, ${job.spec.nights.min}–${job.spec.nights.max} nights` : ", one way"}
        </div>
        {showOwner && job.owner ? <div className="muted">{job.owner.email}</div> : null}
      </td>
      <td><span className={`status ${job.status}`}>{job.status}</span></td>
      <td style={{ minWidth: "9rem" }}>
        <ProgressBar percent={job.percent} label={`Progress of ${title}`} />
        <div className="muted">
          {job.completedTasks.toLocaleString("en")} / {job.totalTasks.toLocaleString("en")}
          {job.status === "RUNNING" ? ` · ETA ${eta(job.etaSeconds)}` : ""}
        </div>
      </td>
      <td>{job.foundFlights.toLocaleString("en")}</td>
      <td>{money(job.bestPrice)}</td>
    </tr>
  );
}

export function JobTable({ jobs, showOwner }: { jobs: (JobSummaryFragment & { owner?: { email: string } | null })[]; showOwner?: boolean }) {
  return (
    <div className="table-wrap">
      <table>
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
