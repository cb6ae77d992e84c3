import type { Metadata } from "next";

import { AllBookingsPanel } from "@/components/admin/all-bookings";
import { AllBookings } from "@/components/bookings/documents";
import { serverQuery } from "@/lib/server";

export const metadata: Metadata = { title: "All bookings" };

export default async function AllBookingsPage() {
  const data = await serverQuery(AllBookings, { status: null });
  return (
    <>
      <h1>All bookings</h1>
      <AllBookingsPanel initial={data} />
    </>
  );
}
