import type { Metadata } from "next";

import { AdminProviders } from "@/components/admin/documents";
import { ProvidersPanel } from "@/components/admin/providers-panel";
import { serverQuery } from "@/lib/server";

export const metadata: Metadata = { title: "Providers" };

export default async function ProvidersPage() {
  const data = await serverQuery(AdminProviders, {});
  return (
    <>
      <h1>Providers</h1>
      <ProvidersPanel initial={data} />
    </>
  );
}
