import type { Metadata } from "next";

import { Imports } from "@/components/admin/documents";
import { ImportsPanel } from "@/components/admin/imports-panel";
import { serverQuery } from "@/lib/server";

export const metadata: Metadata = { title: "Imports" };

export default async function ImportsPage() {
  const data = await serverQuery(Imports, {});
  return (
    <>
      <h1>Flight imports</h1>
      <ImportsPanel initial={data} />
    </>
  );
}
