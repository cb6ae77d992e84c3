import { graphql } from "@/gql";

// Page queries for bookings: the server renders with them first, then the client
// components keep them live from Apollo's cache.

export const MyBookings = graphql(`
  query MyBookings {
    bookings(first: 100) { nodes { ...BookingItem } pageInfo { hasNextPage } }
  }
`);

export const AllBookings = graphql(`
  query AllBookings($status: BookingStatus) {
    bookings(first: 100, scope: ALL, status: $status) { nodes { ...BookingItem accountId } pageInfo { hasNextPage } }
  }
`);

export const BookingStats = graphql(`
  query BookingStats($from: Date!, $to: Date!) {
    bookingStats(from: $from, to: $to) {
      day origin destination currency bookings seats cancellations searches
      revenue { amount currency } refunded { amount currency } bestPrice { amount currency }
    }
  }
`);
