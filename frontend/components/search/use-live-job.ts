"use client";

import { useSubscription } from "@apollo/client/react";
import { useEffect } from "react";

import { JobProgressSubscription } from "./job-fragments";

const ACTIVE = ["QUEUED", "RUNNING", "PAUSED"];

/**
 * Keeps a search's cached summary live: each `jobProgress` event carries the job, which
 * Apollo writes over the cached one. Nothing is polled. The socket reconnects by itself;
 * a subscription the server ended with an error is started again after a pause.
 */
export function useLiveJob(jobId: string, status: string) {
  const { error, restart } = useSubscription(JobProgressSubscription, {
    variables: { jobId },
    skip: !ACTIVE.includes(status),
  });
  useRestartAfterError(error, restart);
}

/** Calls `restart` a few seconds after `error` appears. */
export function useRestartAfterError(error: unknown, restart: () => void, ms = 5000) {
  useEffect(() => {
    if (!error) return;
    const timer = setTimeout(restart, ms);
    return () => clearTimeout(timer);
  }, [error, restart, ms]);
}
