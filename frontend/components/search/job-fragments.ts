import { graphql } from "@/gql";

/** What a search's summary shows (its row in a list, its page's header). */
export const JobSummaryFragment = graphql(`
  fragment JobSummary on SearchJob {
    id
    label
    status
    totalTasks
    completedTasks
    failedTasks
    foundFlights
    percent
    tasksPerSecond
    etaSeconds
    cancelRequested
    pauseRequested
    error
    createdAt
    updatedAt
    finishedAt
    bestPrice { amount currency minorUnits }
    spec { requestedOrigins requestedDestinations origins destinations departureFrom departureTo nights { min max } adults cabin currency providers maxStops maxPrice { amount currency minorUnits } }
  }
`);

/** A search's progress, as it changes: every event carries the whole summary. */
export const JobProgressSubscription = graphql(`
  subscription JobProgressLive($jobId: UUID!) {
    jobProgress(jobId: $jobId) {
      jobId
      status
      job { ...JobSummary bestOffer { ...BestOffer } }
    }
  }
`);

export const BestOfferFragment = graphql(`
  fragment BestOffer on FlightOffer {
    id
    provider
    origin
    destination
    departureAt
    arrivalAt
    returnDepartureAt
    returnArrivalAt
    carrier
    flightNumbers
    stops
    durationMinutes
    price { amount currency minorUnits }
    segments { direction flightNumber }
  }
`);
