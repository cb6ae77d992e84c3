import type { Metadata } from "next";

import { AllSearchesPanel } from "@/components/admin/all-searches";
import { AllSearches } from "@/components/admin/documents";
import type { JobStatus } from "@/gql/graphql";
import { serverQuery } from "@/lib/server";

export const metadata: Metadata = { title: "All searches" };

const STATUSES = ["QUEUED", "RUNNING", "PAUSED", "SUCCEEDED", "FAILED", "CANCELLED"];

export default async function AllSearchesPage({ searchParams }: { searchParams: Promise<{ status?: string; owner?: string }> }) {
  const { status, owner } = await searchParams;
  const seeded = {
    status: status && STATUSES.includes(status) ? (status as JobStatus) : null,
    ownerEmail: owner?.trim() || null,
  };
  const data = await serverQuery(AllSearches, seeded);
  return (
    <>
      <h1>All users&apos; searches</h1>
      <AllSearchesPanel initial={data} seeded={seeded} />
    </>
  );
}
