import { graphql } from "@/gql";

// Page queries: the server renders with them first, then the client components keep them
// live from Apollo's cache. (Kept out of "use client" files so servers can send them.)

export const MySearches = graphql(`
  query MySearches {
    jobs(first: 100) { nodes { ...JobSummary } pageInfo { hasNextPage } }
  }
`);

export const SearchPage = graphql(`
  query SearchPage($id: UUID!) {
    job(id: $id) {
      ...JobSummary
      bestOffer { ...BestOffer }
    }
  }
`);

export const Flights = graphql(`
  query Flights($jobId: UUID!, $first: Int!, $after: String, $orderBy: FlightOrder!, $filter: FlightFilter) {
    flights(jobId: $jobId, first: $first, after: $after, orderBy: $orderBy, filter: $filter) {
      pageInfo { hasNextPage endCursor }
      nodes { ...ResultRow }
    }
  }
`);

/** How many offers pass a filter (read after the page, never holding it up). */
export const FlightsCount = graphql(`
  query FlightsCount($jobId: UUID!, $filter: FlightFilter) {
    flights(jobId: $jobId, first: 1, filter: $filter) { totalCount }
  }
`);

export const Calendar = graphql(`
  query Calendar($jobId: UUID!, $destinations: [String!]) {
    priceCalendar(jobId: $jobId, destinations: $destinations) { departureDate returnDate offers price { amount currency minorUnits } }
  }
`);

export const PriceHistory = graphql(`
  query PriceHistory($id: UUID!) {
    job(id: $id) { id bestPriceHistory { at price { amount currency minorUnits } } }
  }
`);
