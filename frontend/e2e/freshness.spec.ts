// A unit test of lib/freshness.ts (no browser): answers that arrive out of order never undo
// newer ones in the cache.
import { expect, test } from "@playwright/test";

import { forgetFreshness, keepFreshest } from "../lib/freshness";

const job = (updatedAt: string, fields: Record<string, unknown>) => ({
  __typename: "SearchJob",
  id: "9b2f5c3e-0000-4000-8000-000000000001",
  updatedAt,
  ...fields,
});

test.beforeEach(() => forgetFreshness());

test("an older answer takes the newer values it carries", () => {
  const newer = keepFreshest({ data: { jobProgress: job("2026-11-25T10:00:00.000200Z", { status: "PAUSED", pauseRequested: false }) } });
  expect(newer.data.jobProgress.status).toBe("PAUSED");
  // Same millisecond, fewer microseconds: older, so its status is replaced.
  const late = keepFreshest({
    data: { pauseSearch: job("2026-11-25T10:00:00.000100Z", { status: "RUNNING", pauseRequested: true, label: "x" }) },
  });
  expect(late.data.pauseSearch).toMatchObject({ status: "PAUSED", pauseRequested: false, label: "x" });
});

test("a newer answer passes unchanged, and nested searches in lists are seen too", () => {
  keepFreshest({ data: { searchJob: job("2026-11-25T10:00:00Z", { status: "RUNNING", percent: 10 }) } });
  const list = keepFreshest({
    data: { searchJobs: { nodes: [job("2026-11-25T10:00:01Z", { status: "SUCCEEDED", percent: 100 })] } },
  });
  expect(list.data.searchJobs.nodes[0]).toMatchObject({ status: "SUCCEEDED", percent: 100 });
  const stale = keepFreshest({ data: { searchJob: job("2026-11-25T10:00:00.5Z", { status: "RUNNING", percent: 50 }) } });
  expect(stale.data.searchJob).toMatchObject({ status: "SUCCEEDED", percent: 100 });
});

test("other types, other searches and answers without data are left alone", () => {
  keepFreshest({ data: { a: job("2026-11-25T10:00:01Z", { status: "SUCCEEDED" }) } });
  const other = keepFreshest({
    data: { b: { ...job("2026-11-25T10:00:00Z", { status: "RUNNING" }), id: "another" }, c: { __typename: "Offer", id: "o", status: "x" } },
  });
  expect(other.data.b.status).toBe("RUNNING");
  expect(other.data.c.status).toBe("x");
  const empty = { errors: [{ message: "no" }] };
  expect(keepFreshest(empty)).toBe(empty);
});
