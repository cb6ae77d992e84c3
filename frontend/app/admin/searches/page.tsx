import type { Metadata } from "next";

import { AllSearchesPanel } from "@/components/admin/all-searches";
import { AllSearches } from "@/components/admin/documents";
import { serverQuery } from "@/lib/server";

export const metadata: Metadata = { title: "All searches" };

export default async function AllSearchesPage() {
  const data = await serverQuery(AllSearches, {});
  return (
    <>
      <h1>All users&apos; searches</h1>
      <AllSearchesPanel initial={data} />
    </>
  );
}
