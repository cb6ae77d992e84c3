import type { Metadata } from "next";

import { Users } from "@/components/admin/documents";
import { UsersPanel } from "@/components/admin/users-panel";
import { serverQuery } from "@/lib/server";
import { viewer } from "@/lib/viewer";

export const metadata: Metadata = { title: "Users" };

export default async function UsersPage({ searchParams }: { searchParams: Promise<{ q?: string; role?: string }> }) {
  const { q, role } = await searchParams;
  const seeded = { search: q?.trim() || null, role: role === "ADMIN" || role === "USER" ? role : null, after: null } as const;
  const [data, me] = await Promise.all([serverQuery(Users, seeded), viewer()]);
  return (
    <>
      <h1>Users</h1>
      <UsersPanel initial={data} seeded={seeded} me={me?.id ?? ""} />
    </>
  );
}
