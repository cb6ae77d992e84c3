import Link from "next/link";
import { notFound, redirect } from "next/navigation";
import type { ReactNode } from "react";

import { loginHere } from "@/lib/server";
import { viewer } from "@/lib/viewer";

/** Admins only: anyone else gets the 404 page, as if there were nothing here. */
export default async function AdminLayout({ children }: { children: ReactNode }) {
  const me = await viewer();
  if (!me) redirect(await loginHere());
  if (me.role !== "ADMIN") notFound();
  return (
    <>
      <nav aria-label="Admin" className="tabs">
        <Link href="/admin/imports">Imports</Link>
        <Link href="/admin/inventory">Inventory</Link>
        <Link href="/admin/providers">Providers</Link>
        <Link href="/admin/searches">All searches</Link>
        <Link href="/admin/users">Users</Link>
        <Link href="/admin/bookings">Bookings</Link>
        <Link href="/admin/analytics">Analytics</Link>
        <Link href="/admin/webhooks">Webhooks</Link>
      </nav>
      {children}
    </>
  );
}
