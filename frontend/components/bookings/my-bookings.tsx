"use client";

import { useQuery } from "@apollo/client/react";

import type { MyBookingsQuery } from "@/gql/graphql";
import { StaleNotice } from "@/components/layout/stale-notice";
import { useSeededQuery } from "@/lib/hooks";

import { BookingList } from "./booking-list";
import { MyBookings } from "./documents";

/** My bookings page: the server's first answer, then Apollo's cache (optimistic entries and pushed changes). */
export function MyBookingsPanel({ initial }: { initial: MyBookingsQuery }) {
  const { data, error } = useSeededQuery(MyBookings, {}, initial);
  return (
    <>
      <StaleNotice error={error} />
      <BookingList bookings={(data ?? initial).bookings.nodes} />
    </>
  );
}

/** The traveller's bookings of one search's flights, on the search's page. */
export function SearchBookings({ jobId }: { jobId: string }) {
  const { data, error } = useQuery(MyBookings);
  const nodes = data?.bookings.nodes ?? [];
  const mine = nodes.filter((b) => b.jobId === jobId || b.id.startsWith("optimistic-"));
  if (mine.length === 0 && !error) return null;
  return (
    <section className="panel" aria-labelledby="bookings-heading">
      <h2 id="bookings-heading" style={{ marginTop: 0 }}>Your bookings from this search</h2>
      <StaleNotice error={error} />
      <BookingList bookings={mine} />
    </section>
  );
}
