import { graphql } from "@/gql";

/** What a booking shows wherever it is listed. */
export const BookingItemFragment = graphql(`
  fragment BookingItem on Booking {
    id
    jobId
    status
    seats
    provider
    providerReference
    error
    errorCode
    idempotencyKey
    createdAt
    confirmedAt
    cancelledAt
    price { amount currency minorUnits }
    newPrice { amount currency minorUnits }
    passengers { givenName familyName bornOn email }
    offer { id origin destination departureAt returnDepartureAt carrier flightNumbers }
  }
`);

export const BookFlight = graphql(`
  mutation BookFlight($input: BookFlightInput!) {
    bookFlight(input: $input) { ...BookingItem }
  }
`);

export const CancelBooking = graphql(`
  mutation CancelBooking($id: UUID!) {
    cancelBooking(id: $id) { id status cancelledAt }
  }
`);

export const BookingNow = graphql(`
  query BookingNow($id: UUID!) {
    booking(id: $id) { ...BookingItem }
  }
`);
