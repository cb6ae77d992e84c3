"use client";

import { useMutation } from "@apollo/client/react";
import { CombinedGraphQLErrors } from "@apollo/client/errors";
import { toast } from "sonner";

import { graphql } from "@/gql";
import type { JobSummaryFragment } from "@/gql/graphql";

const Pause = graphql(`
  mutation PauseSearch($id: UUID!) { pauseSearch(id: $id) { id status pauseRequested cancelRequested updatedAt } }
`);
const Resume = graphql(`
  mutation ResumeSearch($id: UUID!) { resumeSearch(id: $id) { id status pauseRequested cancelRequested updatedAt } }
`);
const Cancel = graphql(`
  mutation CancelSearch($id: UUID!) { cancelSearch(id: $id) { id status pauseRequested cancelRequested updatedAt } }
`);

function complain(error: unknown) {
  const message = CombinedGraphQLErrors.is(error) ? error.errors.map((e) => e.message).join("; ") : "the server did not answer";
  toast.error(`That did not work: ${message}`);
}

/**
 * Pause, resume and cancel. Each shows its effect at once (optimistically) and the server's
 * answer, or the previous state again if it refused, replaces it.
 */
export function JobActions({ job }: { job: Pick<JobSummaryFragment, "id" | "status" | "pauseRequested" | "cancelRequested" | "updatedAt"> }) {
  const base = {
    __typename: "SearchJob" as const,
    id: job.id,
    pauseRequested: job.pauseRequested,
    cancelRequested: job.cancelRequested,
    updatedAt: job.updatedAt,
  };
  const [pause, pausing] = useMutation(Pause, {
    optimisticResponse: { pauseSearch: { ...base, status: job.status === "QUEUED" ? "PAUSED" : job.status, pauseRequested: true } },
    onError: complain,
  });
  const [resume, resuming] = useMutation(Resume, {
    optimisticResponse: { resumeSearch: { ...base, status: "QUEUED", pauseRequested: false } },
    onError: complain,
  });
  const [cancel, cancelling] = useMutation(Cancel, {
    optimisticResponse: {
      cancelSearch: { ...base, status: job.status === "RUNNING" ? "RUNNING" : "CANCELLED", cancelRequested: true },
    },
    onError: complain,
  });
  const finished = ["SUCCEEDED", "FAILED", "CANCELLED"].includes(job.status);
  if (finished) return null;
  const busy = pausing.loading || resuming.loading || cancelling.loading;
  const variables = { id: job.id };
  return (
    <div className="row" role="group" aria-label="Search actions">
      {job.status === "PAUSED" ? (
        <button type="button" className="secondary" disabled={busy} onClick={() => void resume({ variables }).catch(() => {})}>Resume</button>
      ) : (
        <button type="button" className="secondary" disabled={busy || job.pauseRequested || job.cancelRequested} onClick={() => void pause({ variables }).catch(() => {})}>
          {job.pauseRequested ? "Pausing…" : "Pause"}
        </button>
      )}
      <button
        type="button"
        className="danger"
        disabled={busy || job.cancelRequested}
        onClick={() => {
          if (window.confirm("Cancel this search? What it found so far is kept.")) void cancel({ variables }).catch(() => {});
        }}
      >
        {job.cancelRequested ? "Cancelling…" : "Cancel search"}
      </button>
    </div>
  );
}
