"use client";

import { useSubscription } from "@apollo/client/react";

import { JobProgressSubscription } from "./job-fragments";

const ACTIVE = ["QUEUED", "RUNNING", "PAUSED"];

/**
 * Keeps a search's cached summary live: each `jobProgress` event carries the job, which
 * Apollo writes over the cached one. Nothing is polled.
 */
export function useLiveJob(jobId: string, status: string) {
  useSubscription(JobProgressSubscription, {
    variables: { jobId },
    skip: !ACTIVE.includes(status),
  });
}
