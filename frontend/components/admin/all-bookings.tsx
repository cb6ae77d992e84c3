"use client";

import { useState } from "react";

import type { AllBookingsQuery, BookingStatus } from "@/gql/graphql";
import { AllBookings } from "@/components/bookings/documents";
import { BookingList } from "@/components/bookings/booking-list";
import { StaleNotice } from "@/components/layout/stale-notice";
import { useSeededQuery } from "@/lib/hooks";
import { useQuery } from "@apollo/client/react";

/** Every account's bookings, newest first, by status. */
export function AllBookingsPanel({ initial }: { initial: AllBookingsQuery }) {
  const [status, setStatus] = useState<BookingStatus | "">("");
  const seeded = useSeededQuery(AllBookings, { status: null }, initial);
  const filtered = useQuery(AllBookings, { variables: { status: status || null }, skip: status === "" });
  const data = status === "" ? seeded.data ?? initial : filtered.data ?? filtered.previousData;
  return (
    <>
      <div className="field" style={{ maxWidth: "14rem" }}>
        <label htmlFor="booking-status">Status</label>
        <select id="booking-status" value={status} onChange={(e) => setStatus(e.target.value as BookingStatus | "")}>
          <option value="">Any</option>
          <option value="PENDING">Pending</option>
          <option value="CONFIRMED">Confirmed</option>
          <option value="FAILED">Failed</option>
          <option value="CANCELLED">Cancelled</option>
        </select>
      </div>
      <StaleNotice error={seeded.error ?? filtered.error} />
      <BookingList bookings={data?.bookings.nodes ?? []} showAccount />
    </>
  );
}
