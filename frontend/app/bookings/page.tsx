import type { Metadata } from "next";

import { MyBookings } from "@/components/bookings/documents";
import { MyBookingsPanel } from "@/components/bookings/my-bookings";
import { serverQuery } from "@/lib/server";

export const metadata: Metadata = { title: "My bookings" };

export default async function BookingsPage() {
  const data = await serverQuery(MyBookings, {});
  return (
    <>
      <h1>My bookings</h1>
      <MyBookingsPanel initial={data} />
    </>
  );
}
