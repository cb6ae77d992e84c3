/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  mutation LogIn($email: String!, $password: String!) {\n    logIn(email: $email, password: $password) {\n      token\n      expiresAt\n      refreshToken\n      refreshExpiresAt\n      user { id email role }\n    }\n  }\n": typeof types.LogInDocument,
    "\n  mutation LogOut {\n    logOut\n  }\n": typeof types.LogOutDocument,
    "\n  mutation SignUp($email: String!, $password: String!) {\n    signUp(email: $email, password: $password) {\n      token\n      expiresAt\n      refreshToken\n      refreshExpiresAt\n      user { id email role }\n    }\n  }\n": typeof types.SignUpDocument,
    "\n  mutation CreateSocketTicket {\n    createSocketTicket { ticket expiresAt }\n  }\n": typeof types.CreateSocketTicketDocument,
    "\n  query SearchProviders {\n    providers { name kind enabled }\n  }\n": typeof types.SearchProvidersDocument,
    "\n  fragment ImportFields on Import {\n    id filename source status sizeBytes rowsRead rowsImported rowsRejected percent error createdAt finishedAt\n  }\n": typeof types.ImportFieldsFragmentDoc,
    "\n  query Imports {\n    imports(first: 20) { nodes { ...ImportFields } }\n  }\n": typeof types.ImportsDocument,
    "\n  query ImportRejections($id: UUID!) {\n    import(id: $id) { id filename rowsRejected rejections(first: 1000) { line problems content } }\n  }\n": typeof types.ImportRejectionsDocument,
    "\n  subscription ImportProgressLive($id: UUID!) {\n    importProgress(id: $id) { ...ImportFields }\n  }\n": typeof types.ImportProgressLiveDocument,
    "\n  query AdminProviders {\n    providers {\n      name kind enabled baseUrl hasApiKey timeoutMs retries\n      rateLimit { perSecond scope }\n      capabilities { dateWindowDays nightsRange maxDestinations }\n      health { calls failures errorRate p50Ms p95Ms breaker }\n    }\n  }\n": typeof types.AdminProvidersDocument,
    "\n  query AllSearches($status: JobStatus, $ownerEmail: String) {\n    jobs(first: 100, scope: ALL, status: $status, ownerEmail: $ownerEmail) { nodes { ...JobSummary owner { email } } }\n  }\n": typeof types.AllSearchesDocument,
    "\n  query Users($search: String, $role: Role, $after: String) {\n    users(first: 50, search: $search, role: $role, after: $after) {\n      nodes { id email role createdAt }\n      pageInfo { hasNextPage endCursor }\n    }\n  }\n": typeof types.UsersDocument,
    "\n  mutation SetUserRole($userId: UUID!, $role: Role!) { setUserRole(userId: $userId, role: $role) { id role } }\n": typeof types.SetUserRoleDocument,
    "\n  query Inventory($filter: InventoryFilter, $first: Int!, $after: String) {\n    inventory(filter: $filter, first: $first, after: $after) {\n      pageInfo { hasNextPage endCursor }\n      nodes {\n        id flightNumber airline origin destination departureAt arrivalAt departureDate durationMinutes\n        cabin seatsTotal seatsAvailable price { amount currency minorUnits }\n      }\n    }\n  }\n": typeof types.InventoryDocument,
    "\n  fragment WebhookEndpointFields on WebhookEndpoint {\n    id url eventTypes description enabled parallel createdAt updatedAt\n    failingSince disabledAt disabledReason previousSecretExpiresAt\n  }\n": typeof types.WebhookEndpointFieldsFragmentDoc,
    "\n  query WebhookEndpoints {\n    webhookEndpoints { ...WebhookEndpointFields }\n  }\n": typeof types.WebhookEndpointsDocument,
    "\n  query WebhookEndpointNow($id: UUID!) {\n    webhookEndpoint(id: $id) { ...WebhookEndpointFields }\n  }\n": typeof types.WebhookEndpointNowDocument,
    "\n  fragment WebhookDeliveryFields on WebhookDelivery {\n    id endpointId eventId eventSequence eventType status attemptCount nextAttemptAt\n    lastStatusCode lastError finishedAt createdAt\n    attempts { id attemptedAt statusCode latencyMs responseBody error }\n  }\n": typeof types.WebhookDeliveryFieldsFragmentDoc,
    "\n  query WebhookDeliveries($endpointId: UUID!, $first: Int!, $after: String, $status: WebhookDeliveryStatus) {\n    webhookDeliveries(endpointId: $endpointId, first: $first, after: $after, status: $status) {\n      pageInfo { hasNextPage endCursor }\n      nodes { ...WebhookDeliveryFields }\n    }\n  }\n": typeof types.WebhookDeliveriesDocument,
    "\n  mutation ImportFlights($file: Upload!) { importFlights(file: $file) { id status } }\n": typeof types.ImportFlightsDocument,
    "\n  mutation UpsertInventoryFlight($input: InventoryFlightInput!) {\n    upsertInventoryFlight(input: $input) { id flightNumber seatsAvailable price { amount currency minorUnits } }\n  }\n": typeof types.UpsertInventoryFlightDocument,
    "\n  mutation DeleteInventoryFlight($id: UUID!) { deleteInventoryFlight(id: $id) }\n": typeof types.DeleteInventoryFlightDocument,
    "\n  mutation SetProviderEnabled($name: String!, $enabled: Boolean!) {\n    setProviderEnabled(name: $name, enabled: $enabled) { name enabled }\n  }\n": typeof types.SetProviderEnabledDocument,
    "\n  mutation RedeliverWebhook($deliveryId: UUID!) {\n    redeliverWebhook(deliveryId: $deliveryId) { ...WebhookDeliveryFields }\n  }\n": typeof types.RedeliverWebhookDocument,
    "\n  mutation CreateWebhookEndpoint($input: CreateWebhookEndpointInput!) {\n    createWebhookEndpoint(input: $input) { secret endpoint { ...WebhookEndpointFields } }\n  }\n": typeof types.CreateWebhookEndpointDocument,
    "\n  mutation UpdateWebhookEndpoint($id: UUID!, $input: UpdateWebhookEndpointInput!) {\n    updateWebhookEndpoint(id: $id, input: $input) { ...WebhookEndpointFields }\n  }\n": typeof types.UpdateWebhookEndpointDocument,
    "\n  mutation SetWebhookEndpointEnabled($id: UUID!, $enabled: Boolean!) {\n    updateWebhookEndpoint(id: $id, input: { enabled: $enabled }) { ...WebhookEndpointFields }\n  }\n": typeof types.SetWebhookEndpointEnabledDocument,
    "\n  mutation DeleteWebhookEndpoint($id: UUID!) { deleteWebhookEndpoint(id: $id) }\n": typeof types.DeleteWebhookEndpointDocument,
    "\n  mutation RotateWebhookSecret($id: UUID!) {\n    rotateWebhookSecret(id: $id) { secret endpoint { ...WebhookEndpointFields } }\n  }\n": typeof types.RotateWebhookSecretDocument,
    "\n  query MyBookings {\n    bookings(first: 100) { nodes { ...BookingItem } pageInfo { hasNextPage } }\n  }\n": typeof types.MyBookingsDocument,
    "\n  query AllBookings($status: BookingStatus) {\n    bookings(first: 100, scope: ALL, status: $status) { nodes { ...BookingItem accountId } pageInfo { hasNextPage } }\n  }\n": typeof types.AllBookingsDocument,
    "\n  query BookingStats($from: Date!, $to: Date!) {\n    bookingStats(from: $from, to: $to) {\n      day origin destination currency bookings seats cancellations searches\n      revenue { amount currency } refunded { amount currency } bestPrice { amount currency }\n    }\n  }\n": typeof types.BookingStatsDocument,
    "\n  fragment BookingItem on Booking {\n    id\n    jobId\n    status\n    seats\n    provider\n    providerReference\n    error\n    errorCode\n    idempotencyKey\n    createdAt\n    confirmedAt\n    cancelledAt\n    price { amount currency minorUnits }\n    newPrice { amount currency minorUnits }\n    passengers { givenName familyName bornOn email }\n    offer { id origin destination departureAt returnDepartureAt carrier flightNumbers }\n  }\n": typeof types.BookingItemFragmentDoc,
    "\n  mutation BookFlight($input: BookFlightInput!) {\n    bookFlight(input: $input) { ...BookingItem }\n  }\n": typeof types.BookFlightDocument,
    "\n  mutation CancelBooking($id: UUID!) {\n    cancelBooking(id: $id) { id status cancelledAt }\n  }\n": typeof types.CancelBookingDocument,
    "\n  query BookingNow($id: UUID!) {\n    booking(id: $id) { ...BookingItem }\n  }\n": typeof types.BookingNowDocument,
    "\n  subscription Notifications {\n    notifications { kind jobId importId bookingId title message at }\n  }\n": typeof types.NotificationsDocument,
    "\n  fragment Itinerary on FlightOffer {\n    id\n    provider\n    origin\n    destination\n    departureAt\n    arrivalAt\n    returnDepartureAt\n    returnArrivalAt\n    carrier\n    flightNumbers\n    stops\n    cabin\n    price { amount currency minorUnits }\n    expiresAt\n    deepLink\n    foundAt\n    fetchedAt\n    segments { direction carrier flightNumber origin destination departureAt arrivalAt }\n  }\n": typeof types.ItineraryFragmentDoc,
    "\n  query FlightDetails($id: UUID!) {\n    flight(id: $id) { ...Itinerary }\n  }\n": typeof types.FlightDetailsDocument,
    "\n  fragment ResultRow on FlightOffer {\n    id\n    provider\n    origin\n    destination\n    departureAt\n    arrivalAt\n    returnDepartureAt\n    returnArrivalAt\n    carrier\n    flightNumbers\n    stops\n    durationMinutes\n    price { amount currency minorUnits }\n    segments { direction flightNumber }\n  }\n": typeof types.ResultRowFragmentDoc,
    "\n  query JobAirlines($id: UUID!) {\n    job(id: $id) { id airlines { code name } }\n  }\n": typeof types.JobAirlinesDocument,
    "\n  query Airports($query: String!) {\n    airports(query: $query, first: 8) { code kind name city country airports }\n  }\n": typeof types.AirportsDocument,
    "\n  query MySearches {\n    jobs(first: 100) { nodes { ...JobSummary } pageInfo { hasNextPage } }\n  }\n": typeof types.MySearchesDocument,
    "\n  query SearchPage($id: UUID!) {\n    job(id: $id) {\n      ...JobSummary\n      bestOffer { ...BestOffer }\n    }\n  }\n": typeof types.SearchPageDocument,
    "\n  query Flights($jobId: UUID!, $first: Int!, $after: String, $orderBy: FlightOrder!, $filter: FlightFilter) {\n    flights(jobId: $jobId, first: $first, after: $after, orderBy: $orderBy, filter: $filter) {\n      pageInfo { hasNextPage endCursor }\n      nodes { ...ResultRow }\n    }\n  }\n": typeof types.FlightsDocument,
    "\n  query FlightsCount($jobId: UUID!, $filter: FlightFilter) {\n    flights(jobId: $jobId, first: 1, filter: $filter) { totalCount }\n  }\n": typeof types.FlightsCountDocument,
    "\n  query Calendar($jobId: UUID!, $destinations: [String!]) {\n    priceCalendar(jobId: $jobId, destinations: $destinations) { departureDate returnDate offers price { amount currency minorUnits } }\n  }\n": typeof types.CalendarDocument,
    "\n  query PriceHistory($id: UUID!) {\n    job(id: $id) { id bestPriceHistory { at price { amount currency minorUnits } } }\n  }\n": typeof types.PriceHistoryDocument,
    "\n  mutation PauseSearch($id: UUID!) { pauseSearch(id: $id) { id status pauseRequested cancelRequested updatedAt } }\n": typeof types.PauseSearchDocument,
    "\n  mutation ResumeSearch($id: UUID!) { resumeSearch(id: $id) { id status pauseRequested cancelRequested updatedAt } }\n": typeof types.ResumeSearchDocument,
    "\n  mutation CancelSearch($id: UUID!) { cancelSearch(id: $id) { id status pauseRequested cancelRequested updatedAt } }\n": typeof types.CancelSearchDocument,
    "\n  fragment JobSummary on SearchJob {\n    id\n    label\n    status\n    totalTasks\n    completedTasks\n    failedTasks\n    foundFlights\n    percent\n    tasksPerSecond\n    etaSeconds\n    cancelRequested\n    pauseRequested\n    error\n    createdAt\n    updatedAt\n    finishedAt\n    bestPrice { amount currency minorUnits }\n    spec { requestedOrigins requestedDestinations origins destinations departureFrom departureTo nights { min max } adults cabin currency providers maxStops maxPrice { amount currency minorUnits } }\n  }\n": typeof types.JobSummaryFragmentDoc,
    "\n  subscription JobProgressLive($jobId: UUID!) {\n    jobProgress(jobId: $jobId) {\n      jobId\n      status\n      job { ...JobSummary bestOffer { ...BestOffer } }\n    }\n  }\n": typeof types.JobProgressLiveDocument,
    "\n  fragment BestOffer on FlightOffer {\n    id\n    provider\n    origin\n    destination\n    departureAt\n    arrivalAt\n    returnDepartureAt\n    returnArrivalAt\n    carrier\n    flightNumbers\n    stops\n    durationMinutes\n    price { amount currency minorUnits }\n    segments { direction flightNumber }\n  }\n": typeof types.BestOfferFragmentDoc,
    "\n  mutation StartSearch($input: SearchInput!) {\n    startSearch(input: $input) { ...JobSummary }\n  }\n": typeof types.StartSearchDocument,
    "\n  query EstimateSearch($input: SearchInput!) {\n    estimateSearch(input: $input) {\n      totalTasks\n      estimatedSeconds\n      withinQuota\n      quotaMessage\n    }\n  }\n": typeof types.EstimateSearchDocument,
    "\n  mutation SearchAgain($input: SearchInput!) {\n    startSearch(input: $input) { ...JobSummary }\n  }\n": typeof types.SearchAgainDocument,
    "\n  mutation RenameSearch($id: UUID!, $label: String!) { renameSearch(id: $id, label: $label) { id label updatedAt } }\n": typeof types.RenameSearchDocument,
    "\n  mutation DeleteSearch($id: UUID!) { deleteSearch(id: $id) }\n": typeof types.DeleteSearchDocument,
    "\n  mutation RefreshSession($refreshToken: String!) {\n    refreshSession(refreshToken: $refreshToken) { token expiresAt refreshToken refreshExpiresAt }\n  }\n": typeof types.RefreshSessionDocument,
    "\n  query Me {\n    me { id email role }\n  }\n": typeof types.MeDocument,
};
const documents: Documents = {
    "\n  mutation LogIn($email: String!, $password: String!) {\n    logIn(email: $email, password: $password) {\n      token\n      expiresAt\n      refreshToken\n      refreshExpiresAt\n      user { id email role }\n    }\n  }\n": types.LogInDocument,
    "\n  mutation LogOut {\n    logOut\n  }\n": types.LogOutDocument,
    "\n  mutation SignUp($email: String!, $password: String!) {\n    signUp(email: $email, password: $password) {\n      token\n      expiresAt\n      refreshToken\n      refreshExpiresAt\n      user { id email role }\n    }\n  }\n": types.SignUpDocument,
    "\n  mutation CreateSocketTicket {\n    createSocketTicket { ticket expiresAt }\n  }\n": types.CreateSocketTicketDocument,
    "\n  query SearchProviders {\n    providers { name kind enabled }\n  }\n": types.SearchProvidersDocument,
    "\n  fragment ImportFields on Import {\n    id filename source status sizeBytes rowsRead rowsImported rowsRejected percent error createdAt finishedAt\n  }\n": types.ImportFieldsFragmentDoc,
    "\n  query Imports {\n    imports(first: 20) { nodes { ...ImportFields } }\n  }\n": types.ImportsDocument,
    "\n  query ImportRejections($id: UUID!) {\n    import(id: $id) { id filename rowsRejected rejections(first: 1000) { line problems content } }\n  }\n": types.ImportRejectionsDocument,
    "\n  subscription ImportProgressLive($id: UUID!) {\n    importProgress(id: $id) { ...ImportFields }\n  }\n": types.ImportProgressLiveDocument,
    "\n  query AdminProviders {\n    providers {\n      name kind enabled baseUrl hasApiKey timeoutMs retries\n      rateLimit { perSecond scope }\n      capabilities { dateWindowDays nightsRange maxDestinations }\n      health { calls failures errorRate p50Ms p95Ms breaker }\n    }\n  }\n": types.AdminProvidersDocument,
    "\n  query AllSearches($status: JobStatus, $ownerEmail: String) {\n    jobs(first: 100, scope: ALL, status: $status, ownerEmail: $ownerEmail) { nodes { ...JobSummary owner { email } } }\n  }\n": types.AllSearchesDocument,
    "\n  query Users($search: String, $role: Role, $after: String) {\n    users(first: 50, search: $search, role: $role, after: $after) {\n      nodes { id email role createdAt }\n      pageInfo { hasNextPage endCursor }\n    }\n  }\n": types.UsersDocument,
    "\n  mutation SetUserRole($userId: UUID!, $role: Role!) { setUserRole(userId: $userId, role: $role) { id role } }\n": types.SetUserRoleDocument,
    "\n  query Inventory($filter: InventoryFilter, $first: Int!, $after: String) {\n    inventory(filter: $filter, first: $first, after: $after) {\n      pageInfo { hasNextPage endCursor }\n      nodes {\n        id flightNumber airline origin destination departureAt arrivalAt departureDate durationMinutes\n        cabin seatsTotal seatsAvailable price { amount currency minorUnits }\n      }\n    }\n  }\n": types.InventoryDocument,
    "\n  fragment WebhookEndpointFields on WebhookEndpoint {\n    id url eventTypes description enabled parallel createdAt updatedAt\n    failingSince disabledAt disabledReason previousSecretExpiresAt\n  }\n": types.WebhookEndpointFieldsFragmentDoc,
    "\n  query WebhookEndpoints {\n    webhookEndpoints { ...WebhookEndpointFields }\n  }\n": types.WebhookEndpointsDocument,
    "\n  query WebhookEndpointNow($id: UUID!) {\n    webhookEndpoint(id: $id) { ...WebhookEndpointFields }\n  }\n": types.WebhookEndpointNowDocument,
    "\n  fragment WebhookDeliveryFields on WebhookDelivery {\n    id endpointId eventId eventSequence eventType status attemptCount nextAttemptAt\n    lastStatusCode lastError finishedAt createdAt\n    attempts { id attemptedAt statusCode latencyMs responseBody error }\n  }\n": types.WebhookDeliveryFieldsFragmentDoc,
    "\n  query WebhookDeliveries($endpointId: UUID!, $first: Int!, $after: String, $status: WebhookDeliveryStatus) {\n    webhookDeliveries(endpointId: $endpointId, first: $first, after: $after, status: $status) {\n      pageInfo { hasNextPage endCursor }\n      nodes { ...WebhookDeliveryFields }\n    }\n  }\n": types.WebhookDeliveriesDocument,
    "\n  mutation ImportFlights($file: Upload!) { importFlights(file: $file) { id status } }\n": types.ImportFlightsDocument,
    "\n  mutation UpsertInventoryFlight($input: InventoryFlightInput!) {\n    upsertInventoryFlight(input: $input) { id flightNumber seatsAvailable price { amount currency minorUnits } }\n  }\n": types.UpsertInventoryFlightDocument,
    "\n  mutation DeleteInventoryFlight($id: UUID!) { deleteInventoryFlight(id: $id) }\n": types.DeleteInventoryFlightDocument,
    "\n  mutation SetProviderEnabled($name: String!, $enabled: Boolean!) {\n    setProviderEnabled(name: $name, enabled: $enabled) { name enabled }\n  }\n": types.SetProviderEnabledDocument,
    "\n  mutation RedeliverWebhook($deliveryId: UUID!) {\n    redeliverWebhook(deliveryId: $deliveryId) { ...WebhookDeliveryFields }\n  }\n": types.RedeliverWebhookDocument,
    "\n  mutation CreateWebhookEndpoint($input: CreateWebhookEndpointInput!) {\n    createWebhookEndpoint(input: $input) { secret endpoint { ...WebhookEndpointFields } }\n  }\n": types.CreateWebhookEndpointDocument,
    "\n  mutation UpdateWebhookEndpoint($id: UUID!, $input: UpdateWebhookEndpointInput!) {\n    updateWebhookEndpoint(id: $id, input: $input) { ...WebhookEndpointFields }\n  }\n": types.UpdateWebhookEndpointDocument,
    "\n  mutation SetWebhookEndpointEnabled($id: UUID!, $enabled: Boolean!) {\n    updateWebhookEndpoint(id: $id, input: { enabled: $enabled }) { ...WebhookEndpointFields }\n  }\n": types.SetWebhookEndpointEnabledDocument,
    "\n  mutation DeleteWebhookEndpoint($id: UUID!) { deleteWebhookEndpoint(id: $id) }\n": types.DeleteWebhookEndpointDocument,
    "\n  mutation RotateWebhookSecret($id: UUID!) {\n    rotateWebhookSecret(id: $id) { secret endpoint { ...WebhookEndpointFields } }\n  }\n": types.RotateWebhookSecretDocument,
    "\n  query MyBookings {\n    bookings(first: 100) { nodes { ...BookingItem } pageInfo { hasNextPage } }\n  }\n": types.MyBookingsDocument,
    "\n  query AllBookings($status: BookingStatus) {\n    bookings(first: 100, scope: ALL, status: $status) { nodes { ...BookingItem accountId } pageInfo { hasNextPage } }\n  }\n": types.AllBookingsDocument,
    "\n  query BookingStats($from: Date!, $to: Date!) {\n    bookingStats(from: $from, to: $to) {\n      day origin destination currency bookings seats cancellations searches\n      revenue { amount currency } refunded { amount currency } bestPrice { amount currency }\n    }\n  }\n": types.BookingStatsDocument,
    "\n  fragment BookingItem on Booking {\n    id\n    jobId\n    status\n    seats\n    provider\n    providerReference\n    error\n    errorCode\n    idempotencyKey\n    createdAt\n    confirmedAt\n    cancelledAt\n    price { amount currency minorUnits }\n    newPrice { amount currency minorUnits }\n    passengers { givenName familyName bornOn email }\n    offer { id origin destination departureAt returnDepartureAt carrier flightNumbers }\n  }\n": types.BookingItemFragmentDoc,
    "\n  mutation BookFlight($input: BookFlightInput!) {\n    bookFlight(input: $input) { ...BookingItem }\n  }\n": types.BookFlightDocument,
    "\n  mutation CancelBooking($id: UUID!) {\n    cancelBooking(id: $id) { id status cancelledAt }\n  }\n": types.CancelBookingDocument,
    "\n  query BookingNow($id: UUID!) {\n    booking(id: $id) { ...BookingItem }\n  }\n": types.BookingNowDocument,
    "\n  subscription Notifications {\n    notifications { kind jobId importId bookingId title message at }\n  }\n": types.NotificationsDocument,
    "\n  fragment Itinerary on FlightOffer {\n    id\n    provider\n    origin\n    destination\n    departureAt\n    arrivalAt\n    returnDepartureAt\n    returnArrivalAt\n    carrier\n    flightNumbers\n    stops\n    cabin\n    price { amount currency minorUnits }\n    expiresAt\n    deepLink\n    foundAt\n    fetchedAt\n    segments { direction carrier flightNumber origin destination departureAt arrivalAt }\n  }\n": types.ItineraryFragmentDoc,
    "\n  query FlightDetails($id: UUID!) {\n    flight(id: $id) { ...Itinerary }\n  }\n": types.FlightDetailsDocument,
    "\n  fragment ResultRow on FlightOffer {\n    id\n    provider\n    origin\n    destination\n    departureAt\n    arrivalAt\n    returnDepartureAt\n    returnArrivalAt\n    carrier\n    flightNumbers\n    stops\n    durationMinutes\n    price { amount currency minorUnits }\n    segments { direction flightNumber }\n  }\n": types.ResultRowFragmentDoc,
    "\n  query JobAirlines($id: UUID!) {\n    job(id: $id) { id airlines { code name } }\n  }\n": types.JobAirlinesDocument,
    "\n  query Airports($query: String!) {\n    airports(query: $query, first: 8) { code kind name city country airports }\n  }\n": types.AirportsDocument,
    "\n  query MySearches {\n    jobs(first: 100) { nodes { ...JobSummary } pageInfo { hasNextPage } }\n  }\n": types.MySearchesDocument,
    "\n  query SearchPage($id: UUID!) {\n    job(id: $id) {\n      ...JobSummary\n      bestOffer { ...BestOffer }\n    }\n  }\n": types.SearchPageDocument,
    "\n  query Flights($jobId: UUID!, $first: Int!, $after: String, $orderBy: FlightOrder!, $filter: FlightFilter) {\n    flights(jobId: $jobId, first: $first, after: $after, orderBy: $orderBy, filter: $filter) {\n      pageInfo { hasNextPage endCursor }\n      nodes { ...ResultRow }\n    }\n  }\n": types.FlightsDocument,
    "\n  query FlightsCount($jobId: UUID!, $filter: FlightFilter) {\n    flights(jobId: $jobId, first: 1, filter: $filter) { totalCount }\n  }\n": types.FlightsCountDocument,
    "\n  query Calendar($jobId: UUID!, $destinations: [String!]) {\n    priceCalendar(jobId: $jobId, destinations: $destinations) { departureDate returnDate offers price { amount currency minorUnits } }\n  }\n": types.CalendarDocument,
    "\n  query PriceHistory($id: UUID!) {\n    job(id: $id) { id bestPriceHistory { at price { amount currency minorUnits } } }\n  }\n": types.PriceHistoryDocument,
    "\n  mutation PauseSearch($id: UUID!) { pauseSearch(id: $id) { id status pauseRequested cancelRequested updatedAt } }\n": types.PauseSearchDocument,
    "\n  mutation ResumeSearch($id: UUID!) { resumeSearch(id: $id) { id status pauseRequested cancelRequested updatedAt } }\n": types.ResumeSearchDocument,
    "\n  mutation CancelSearch($id: UUID!) { cancelSearch(id: $id) { id status pauseRequested cancelRequested updatedAt } }\n": types.CancelSearchDocument,
    "\n  fragment JobSummary on SearchJob {\n    id\n    label\n    status\n    totalTasks\n    completedTasks\n    failedTasks\n    foundFlights\n    percent\n    tasksPerSecond\n    etaSeconds\n    cancelRequested\n    pauseRequested\n    error\n    createdAt\n    updatedAt\n    finishedAt\n    bestPrice { amount currency minorUnits }\n    spec { requestedOrigins requestedDestinations origins destinations departureFrom departureTo nights { min max } adults cabin currency providers maxStops maxPrice { amount currency minorUnits } }\n  }\n": types.JobSummaryFragmentDoc,
    "\n  subscription JobProgressLive($jobId: UUID!) {\n    jobProgress(jobId: $jobId) {\n      jobId\n      status\n      job { ...JobSummary bestOffer { ...BestOffer } }\n    }\n  }\n": types.JobProgressLiveDocument,
    "\n  fragment BestOffer on FlightOffer {\n    id\n    provider\n    origin\n    destination\n    departureAt\n    arrivalAt\n    returnDepartureAt\n    returnArrivalAt\n    carrier\n    flightNumbers\n    stops\n    durationMinutes\n    price { amount currency minorUnits }\n    segments { direction flightNumber }\n  }\n": types.BestOfferFragmentDoc,
    "\n  mutation StartSearch($input: SearchInput!) {\n    startSearch(input: $input) { ...JobSummary }\n  }\n": types.StartSearchDocument,
    "\n  query EstimateSearch($input: SearchInput!) {\n    estimateSearch(input: $input) {\n      totalTasks\n      estimatedSeconds\n      withinQuota\n      quotaMessage\n    }\n  }\n": types.EstimateSearchDocument,
    "\n  mutation SearchAgain($input: SearchInput!) {\n    startSearch(input: $input) { ...JobSummary }\n  }\n": types.SearchAgainDocument,
    "\n  mutation RenameSearch($id: UUID!, $label: String!) { renameSearch(id: $id, label: $label) { id label updatedAt } }\n": types.RenameSearchDocument,
    "\n  mutation DeleteSearch($id: UUID!) { deleteSearch(id: $id) }\n": types.DeleteSearchDocument,
    "\n  mutation RefreshSession($refreshToken: String!) {\n    refreshSession(refreshToken: $refreshToken) { token expiresAt refreshToken refreshExpiresAt }\n  }\n": types.RefreshSessionDocument,
    "\n  query Me {\n    me { id email role }\n  }\n": types.MeDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation LogIn($email: String!, $password: String!) {\n    logIn(email: $email, password: $password) {\n      token\n      expiresAt\n      refreshToken\n      refreshExpiresAt\n      user { id email role }\n    }\n  }\n"): (typeof documents)["\n  mutation LogIn($email: String!, $password: String!) {\n    logIn(email: $email, password: $password) {\n      token\n      expiresAt\n      refreshToken\n      refreshExpiresAt\n      user { id email role }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation LogOut {\n    logOut\n  }\n"): (typeof documents)["\n  mutation LogOut {\n    logOut\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SignUp($email: String!, $password: String!) {\n    signUp(email: $email, password: $password) {\n      token\n      expiresAt\n      refreshToken\n      refreshExpiresAt\n      user { id email role }\n    }\n  }\n"): (typeof documents)["\n  mutation SignUp($email: String!, $password: String!) {\n    signUp(email: $email, password: $password) {\n      token\n      expiresAt\n      refreshToken\n      refreshExpiresAt\n      user { id email role }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateSocketTicket {\n    createSocketTicket { ticket expiresAt }\n  }\n"): (typeof documents)["\n  mutation CreateSocketTicket {\n    createSocketTicket { ticket expiresAt }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query SearchProviders {\n    providers { name kind enabled }\n  }\n"): (typeof documents)["\n  query SearchProviders {\n    providers { name kind enabled }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment ImportFields on Import {\n    id filename source status sizeBytes rowsRead rowsImported rowsRejected percent error createdAt finishedAt\n  }\n"): (typeof documents)["\n  fragment ImportFields on Import {\n    id filename source status sizeBytes rowsRead rowsImported rowsRejected percent error createdAt finishedAt\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Imports {\n    imports(first: 20) { nodes { ...ImportFields } }\n  }\n"): (typeof documents)["\n  query Imports {\n    imports(first: 20) { nodes { ...ImportFields } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ImportRejections($id: UUID!) {\n    import(id: $id) { id filename rowsRejected rejections(first: 1000) { line problems content } }\n  }\n"): (typeof documents)["\n  query ImportRejections($id: UUID!) {\n    import(id: $id) { id filename rowsRejected rejections(first: 1000) { line problems content } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription ImportProgressLive($id: UUID!) {\n    importProgress(id: $id) { ...ImportFields }\n  }\n"): (typeof documents)["\n  subscription ImportProgressLive($id: UUID!) {\n    importProgress(id: $id) { ...ImportFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AdminProviders {\n    providers {\n      name kind enabled baseUrl hasApiKey timeoutMs retries\n      rateLimit { perSecond scope }\n      capabilities { dateWindowDays nightsRange maxDestinations }\n      health { calls failures errorRate p50Ms p95Ms breaker }\n    }\n  }\n"): (typeof documents)["\n  query AdminProviders {\n    providers {\n      name kind enabled baseUrl hasApiKey timeoutMs retries\n      rateLimit { perSecond scope }\n      capabilities { dateWindowDays nightsRange maxDestinations }\n      health { calls failures errorRate p50Ms p95Ms breaker }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AllSearches($status: JobStatus, $ownerEmail: String) {\n    jobs(first: 100, scope: ALL, status: $status, ownerEmail: $ownerEmail) { nodes { ...JobSummary owner { email } } }\n  }\n"): (typeof documents)["\n  query AllSearches($status: JobStatus, $ownerEmail: String) {\n    jobs(first: 100, scope: ALL, status: $status, ownerEmail: $ownerEmail) { nodes { ...JobSummary owner { email } } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Users($search: String, $role: Role, $after: String) {\n    users(first: 50, search: $search, role: $role, after: $after) {\n      nodes { id email role createdAt }\n      pageInfo { hasNextPage endCursor }\n    }\n  }\n"): (typeof documents)["\n  query Users($search: String, $role: Role, $after: String) {\n    users(first: 50, search: $search, role: $role, after: $after) {\n      nodes { id email role createdAt }\n      pageInfo { hasNextPage endCursor }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SetUserRole($userId: UUID!, $role: Role!) { setUserRole(userId: $userId, role: $role) { id role } }\n"): (typeof documents)["\n  mutation SetUserRole($userId: UUID!, $role: Role!) { setUserRole(userId: $userId, role: $role) { id role } }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Inventory($filter: InventoryFilter, $first: Int!, $after: String) {\n    inventory(filter: $filter, first: $first, after: $after) {\n      pageInfo { hasNextPage endCursor }\n      nodes {\n        id flightNumber airline origin destination departureAt arrivalAt departureDate durationMinutes\n        cabin seatsTotal seatsAvailable price { amount currency minorUnits }\n      }\n    }\n  }\n"): (typeof documents)["\n  query Inventory($filter: InventoryFilter, $first: Int!, $after: String) {\n    inventory(filter: $filter, first: $first, after: $after) {\n      pageInfo { hasNextPage endCursor }\n      nodes {\n        id flightNumber airline origin destination departureAt arrivalAt departureDate durationMinutes\n        cabin seatsTotal seatsAvailable price { amount currency minorUnits }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment WebhookEndpointFields on WebhookEndpoint {\n    id url eventTypes description enabled parallel createdAt updatedAt\n    failingSince disabledAt disabledReason previousSecretExpiresAt\n  }\n"): (typeof documents)["\n  fragment WebhookEndpointFields on WebhookEndpoint {\n    id url eventTypes description enabled parallel createdAt updatedAt\n    failingSince disabledAt disabledReason previousSecretExpiresAt\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query WebhookEndpoints {\n    webhookEndpoints { ...WebhookEndpointFields }\n  }\n"): (typeof documents)["\n  query WebhookEndpoints {\n    webhookEndpoints { ...WebhookEndpointFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query WebhookEndpointNow($id: UUID!) {\n    webhookEndpoint(id: $id) { ...WebhookEndpointFields }\n  }\n"): (typeof documents)["\n  query WebhookEndpointNow($id: UUID!) {\n    webhookEndpoint(id: $id) { ...WebhookEndpointFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment WebhookDeliveryFields on WebhookDelivery {\n    id endpointId eventId eventSequence eventType status attemptCount nextAttemptAt\n    lastStatusCode lastError finishedAt createdAt\n    attempts { id attemptedAt statusCode latencyMs responseBody error }\n  }\n"): (typeof documents)["\n  fragment WebhookDeliveryFields on WebhookDelivery {\n    id endpointId eventId eventSequence eventType status attemptCount nextAttemptAt\n    lastStatusCode lastError finishedAt createdAt\n    attempts { id attemptedAt statusCode latencyMs responseBody error }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query WebhookDeliveries($endpointId: UUID!, $first: Int!, $after: String, $status: WebhookDeliveryStatus) {\n    webhookDeliveries(endpointId: $endpointId, first: $first, after: $after, status: $status) {\n      pageInfo { hasNextPage endCursor }\n      nodes { ...WebhookDeliveryFields }\n    }\n  }\n"): (typeof documents)["\n  query WebhookDeliveries($endpointId: UUID!, $first: Int!, $after: String, $status: WebhookDeliveryStatus) {\n    webhookDeliveries(endpointId: $endpointId, first: $first, after: $after, status: $status) {\n      pageInfo { hasNextPage endCursor }\n      nodes { ...WebhookDeliveryFields }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ImportFlights($file: Upload!) { importFlights(file: $file) { id status } }\n"): (typeof documents)["\n  mutation ImportFlights($file: Upload!) { importFlights(file: $file) { id status } }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpsertInventoryFlight($input: InventoryFlightInput!) {\n    upsertInventoryFlight(input: $input) { id flightNumber seatsAvailable price { amount currency minorUnits } }\n  }\n"): (typeof documents)["\n  mutation UpsertInventoryFlight($input: InventoryFlightInput!) {\n    upsertInventoryFlight(input: $input) { id flightNumber seatsAvailable price { amount currency minorUnits } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteInventoryFlight($id: UUID!) { deleteInventoryFlight(id: $id) }\n"): (typeof documents)["\n  mutation DeleteInventoryFlight($id: UUID!) { deleteInventoryFlight(id: $id) }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SetProviderEnabled($name: String!, $enabled: Boolean!) {\n    setProviderEnabled(name: $name, enabled: $enabled) { name enabled }\n  }\n"): (typeof documents)["\n  mutation SetProviderEnabled($name: String!, $enabled: Boolean!) {\n    setProviderEnabled(name: $name, enabled: $enabled) { name enabled }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RedeliverWebhook($deliveryId: UUID!) {\n    redeliverWebhook(deliveryId: $deliveryId) { ...WebhookDeliveryFields }\n  }\n"): (typeof documents)["\n  mutation RedeliverWebhook($deliveryId: UUID!) {\n    redeliverWebhook(deliveryId: $deliveryId) { ...WebhookDeliveryFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateWebhookEndpoint($input: CreateWebhookEndpointInput!) {\n    createWebhookEndpoint(input: $input) { secret endpoint { ...WebhookEndpointFields } }\n  }\n"): (typeof documents)["\n  mutation CreateWebhookEndpoint($input: CreateWebhookEndpointInput!) {\n    createWebhookEndpoint(input: $input) { secret endpoint { ...WebhookEndpointFields } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateWebhookEndpoint($id: UUID!, $input: UpdateWebhookEndpointInput!) {\n    updateWebhookEndpoint(id: $id, input: $input) { ...WebhookEndpointFields }\n  }\n"): (typeof documents)["\n  mutation UpdateWebhookEndpoint($id: UUID!, $input: UpdateWebhookEndpointInput!) {\n    updateWebhookEndpoint(id: $id, input: $input) { ...WebhookEndpointFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SetWebhookEndpointEnabled($id: UUID!, $enabled: Boolean!) {\n    updateWebhookEndpoint(id: $id, input: { enabled: $enabled }) { ...WebhookEndpointFields }\n  }\n"): (typeof documents)["\n  mutation SetWebhookEndpointEnabled($id: UUID!, $enabled: Boolean!) {\n    updateWebhookEndpoint(id: $id, input: { enabled: $enabled }) { ...WebhookEndpointFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteWebhookEndpoint($id: UUID!) { deleteWebhookEndpoint(id: $id) }\n"): (typeof documents)["\n  mutation DeleteWebhookEndpoint($id: UUID!) { deleteWebhookEndpoint(id: $id) }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RotateWebhookSecret($id: UUID!) {\n    rotateWebhookSecret(id: $id) { secret endpoint { ...WebhookEndpointFields } }\n  }\n"): (typeof documents)["\n  mutation RotateWebhookSecret($id: UUID!) {\n    rotateWebhookSecret(id: $id) { secret endpoint { ...WebhookEndpointFields } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query MyBookings {\n    bookings(first: 100) { nodes { ...BookingItem } pageInfo { hasNextPage } }\n  }\n"): (typeof documents)["\n  query MyBookings {\n    bookings(first: 100) { nodes { ...BookingItem } pageInfo { hasNextPage } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AllBookings($status: BookingStatus) {\n    bookings(first: 100, scope: ALL, status: $status) { nodes { ...BookingItem accountId } pageInfo { hasNextPage } }\n  }\n"): (typeof documents)["\n  query AllBookings($status: BookingStatus) {\n    bookings(first: 100, scope: ALL, status: $status) { nodes { ...BookingItem accountId } pageInfo { hasNextPage } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query BookingStats($from: Date!, $to: Date!) {\n    bookingStats(from: $from, to: $to) {\n      day origin destination currency bookings seats cancellations searches\n      revenue { amount currency } refunded { amount currency } bestPrice { amount currency }\n    }\n  }\n"): (typeof documents)["\n  query BookingStats($from: Date!, $to: Date!) {\n    bookingStats(from: $from, to: $to) {\n      day origin destination currency bookings seats cancellations searches\n      revenue { amount currency } refunded { amount currency } bestPrice { amount currency }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment BookingItem on Booking {\n    id\n    jobId\n    status\n    seats\n    provider\n    providerReference\n    error\n    errorCode\n    idempotencyKey\n    createdAt\n    confirmedAt\n    cancelledAt\n    price { amount currency minorUnits }\n    newPrice { amount currency minorUnits }\n    passengers { givenName familyName bornOn email }\n    offer { id origin destination departureAt returnDepartureAt carrier flightNumbers }\n  }\n"): (typeof documents)["\n  fragment BookingItem on Booking {\n    id\n    jobId\n    status\n    seats\n    provider\n    providerReference\n    error\n    errorCode\n    idempotencyKey\n    createdAt\n    confirmedAt\n    cancelledAt\n    price { amount currency minorUnits }\n    newPrice { amount currency minorUnits }\n    passengers { givenName familyName bornOn email }\n    offer { id origin destination departureAt returnDepartureAt carrier flightNumbers }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation BookFlight($input: BookFlightInput!) {\n    bookFlight(input: $input) { ...BookingItem }\n  }\n"): (typeof documents)["\n  mutation BookFlight($input: BookFlightInput!) {\n    bookFlight(input: $input) { ...BookingItem }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CancelBooking($id: UUID!) {\n    cancelBooking(id: $id) { id status cancelledAt }\n  }\n"): (typeof documents)["\n  mutation CancelBooking($id: UUID!) {\n    cancelBooking(id: $id) { id status cancelledAt }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query BookingNow($id: UUID!) {\n    booking(id: $id) { ...BookingItem }\n  }\n"): (typeof documents)["\n  query BookingNow($id: UUID!) {\n    booking(id: $id) { ...BookingItem }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription Notifications {\n    notifications { kind jobId importId bookingId title message at }\n  }\n"): (typeof documents)["\n  subscription Notifications {\n    notifications { kind jobId importId bookingId title message at }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment Itinerary on FlightOffer {\n    id\n    provider\n    origin\n    destination\n    departureAt\n    arrivalAt\n    returnDepartureAt\n    returnArrivalAt\n    carrier\n    flightNumbers\n    stops\n    cabin\n    price { amount currency minorUnits }\n    expiresAt\n    deepLink\n    foundAt\n    fetchedAt\n    segments { direction carrier flightNumber origin destination departureAt arrivalAt }\n  }\n"): (typeof documents)["\n  fragment Itinerary on FlightOffer {\n    id\n    provider\n    origin\n    destination\n    departureAt\n    arrivalAt\n    returnDepartureAt\n    returnArrivalAt\n    carrier\n    flightNumbers\n    stops\n    cabin\n    price { amount currency minorUnits }\n    expiresAt\n    deepLink\n    foundAt\n    fetchedAt\n    segments { direction carrier flightNumber origin destination departureAt arrivalAt }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query FlightDetails($id: UUID!) {\n    flight(id: $id) { ...Itinerary }\n  }\n"): (typeof documents)["\n  query FlightDetails($id: UUID!) {\n    flight(id: $id) { ...Itinerary }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment ResultRow on FlightOffer {\n    id\n    provider\n    origin\n    destination\n    departureAt\n    arrivalAt\n    returnDepartureAt\n    returnArrivalAt\n    carrier\n    flightNumbers\n    stops\n    durationMinutes\n    price { amount currency minorUnits }\n    segments { direction flightNumber }\n  }\n"): (typeof documents)["\n  fragment ResultRow on FlightOffer {\n    id\n    provider\n    origin\n    destination\n    departureAt\n    arrivalAt\n    returnDepartureAt\n    returnArrivalAt\n    carrier\n    flightNumbers\n    stops\n    durationMinutes\n    price { amount currency minorUnits }\n    segments { direction flightNumber }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query JobAirlines($id: UUID!) {\n    job(id: $id) { id airlines { code name } }\n  }\n"): (typeof documents)["\n  query JobAirlines($id: UUID!) {\n    job(id: $id) { id airlines { code name } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Airports($query: String!) {\n    airports(query: $query, first: 8) { code kind name city country airports }\n  }\n"): (typeof documents)["\n  query Airports($query: String!) {\n    airports(query: $query, first: 8) { code kind name city country airports }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query MySearches {\n    jobs(first: 100) { nodes { ...JobSummary } pageInfo { hasNextPage } }\n  }\n"): (typeof documents)["\n  query MySearches {\n    jobs(first: 100) { nodes { ...JobSummary } pageInfo { hasNextPage } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query SearchPage($id: UUID!) {\n    job(id: $id) {\n      ...JobSummary\n      bestOffer { ...BestOffer }\n    }\n  }\n"): (typeof documents)["\n  query SearchPage($id: UUID!) {\n    job(id: $id) {\n      ...JobSummary\n      bestOffer { ...BestOffer }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Flights($jobId: UUID!, $first: Int!, $after: String, $orderBy: FlightOrder!, $filter: FlightFilter) {\n    flights(jobId: $jobId, first: $first, after: $after, orderBy: $orderBy, filter: $filter) {\n      pageInfo { hasNextPage endCursor }\n      nodes { ...ResultRow }\n    }\n  }\n"): (typeof documents)["\n  query Flights($jobId: UUID!, $first: Int!, $after: String, $orderBy: FlightOrder!, $filter: FlightFilter) {\n    flights(jobId: $jobId, first: $first, after: $after, orderBy: $orderBy, filter: $filter) {\n      pageInfo { hasNextPage endCursor }\n      nodes { ...ResultRow }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query FlightsCount($jobId: UUID!, $filter: FlightFilter) {\n    flights(jobId: $jobId, first: 1, filter: $filter) { totalCount }\n  }\n"): (typeof documents)["\n  query FlightsCount($jobId: UUID!, $filter: FlightFilter) {\n    flights(jobId: $jobId, first: 1, filter: $filter) { totalCount }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Calendar($jobId: UUID!, $destinations: [String!]) {\n    priceCalendar(jobId: $jobId, destinations: $destinations) { departureDate returnDate offers price { amount currency minorUnits } }\n  }\n"): (typeof documents)["\n  query Calendar($jobId: UUID!, $destinations: [String!]) {\n    priceCalendar(jobId: $jobId, destinations: $destinations) { departureDate returnDate offers price { amount currency minorUnits } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query PriceHistory($id: UUID!) {\n    job(id: $id) { id bestPriceHistory { at price { amount currency minorUnits } } }\n  }\n"): (typeof documents)["\n  query PriceHistory($id: UUID!) {\n    job(id: $id) { id bestPriceHistory { at price { amount currency minorUnits } } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation PauseSearch($id: UUID!) { pauseSearch(id: $id) { id status pauseRequested cancelRequested updatedAt } }\n"): (typeof documents)["\n  mutation PauseSearch($id: UUID!) { pauseSearch(id: $id) { id status pauseRequested cancelRequested updatedAt } }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ResumeSearch($id: UUID!) { resumeSearch(id: $id) { id status pauseRequested cancelRequested updatedAt } }\n"): (typeof documents)["\n  mutation ResumeSearch($id: UUID!) { resumeSearch(id: $id) { id status pauseRequested cancelRequested updatedAt } }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CancelSearch($id: UUID!) { cancelSearch(id: $id) { id status pauseRequested cancelRequested updatedAt } }\n"): (typeof documents)["\n  mutation CancelSearch($id: UUID!) { cancelSearch(id: $id) { id status pauseRequested cancelRequested updatedAt } }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment JobSummary on SearchJob {\n    id\n    label\n    status\n    totalTasks\n    completedTasks\n    failedTasks\n    foundFlights\n    percent\n    tasksPerSecond\n    etaSeconds\n    cancelRequested\n    pauseRequested\n    error\n    createdAt\n    updatedAt\n    finishedAt\n    bestPrice { amount currency minorUnits }\n    spec { requestedOrigins requestedDestinations origins destinations departureFrom departureTo nights { min max } adults cabin currency providers maxStops maxPrice { amount currency minorUnits } }\n  }\n"): (typeof documents)["\n  fragment JobSummary on SearchJob {\n    id\n    label\n    status\n    totalTasks\n    completedTasks\n    failedTasks\n    foundFlights\n    percent\n    tasksPerSecond\n    etaSeconds\n    cancelRequested\n    pauseRequested\n    error\n    createdAt\n    updatedAt\n    finishedAt\n    bestPrice { amount currency minorUnits }\n    spec { requestedOrigins requestedDestinations origins destinations departureFrom departureTo nights { min max } adults cabin currency providers maxStops maxPrice { amount currency minorUnits } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription JobProgressLive($jobId: UUID!) {\n    jobProgress(jobId: $jobId) {\n      jobId\n      status\n      job { ...JobSummary bestOffer { ...BestOffer } }\n    }\n  }\n"): (typeof documents)["\n  subscription JobProgressLive($jobId: UUID!) {\n    jobProgress(jobId: $jobId) {\n      jobId\n      status\n      job { ...JobSummary bestOffer { ...BestOffer } }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment BestOffer on FlightOffer {\n    id\n    provider\n    origin\n    destination\n    departureAt\n    arrivalAt\n    returnDepartureAt\n    returnArrivalAt\n    carrier\n    flightNumbers\n    stops\n    durationMinutes\n    price { amount currency minorUnits }\n    segments { direction flightNumber }\n  }\n"): (typeof documents)["\n  fragment BestOffer on FlightOffer {\n    id\n    provider\n    origin\n    destination\n    departureAt\n    arrivalAt\n    returnDepartureAt\n    returnArrivalAt\n    carrier\n    flightNumbers\n    stops\n    durationMinutes\n    price { amount currency minorUnits }\n    segments { direction flightNumber }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation StartSearch($input: SearchInput!) {\n    startSearch(input: $input) { ...JobSummary }\n  }\n"): (typeof documents)["\n  mutation StartSearch($input: SearchInput!) {\n    startSearch(input: $input) { ...JobSummary }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query EstimateSearch($input: SearchInput!) {\n    estimateSearch(input: $input) {\n      totalTasks\n      estimatedSeconds\n      withinQuota\n      quotaMessage\n    }\n  }\n"): (typeof documents)["\n  query EstimateSearch($input: SearchInput!) {\n    estimateSearch(input: $input) {\n      totalTasks\n      estimatedSeconds\n      withinQuota\n      quotaMessage\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SearchAgain($input: SearchInput!) {\n    startSearch(input: $input) { ...JobSummary }\n  }\n"): (typeof documents)["\n  mutation SearchAgain($input: SearchInput!) {\n    startSearch(input: $input) { ...JobSummary }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RenameSearch($id: UUID!, $label: String!) { renameSearch(id: $id, label: $label) { id label updatedAt } }\n"): (typeof documents)["\n  mutation RenameSearch($id: UUID!, $label: String!) { renameSearch(id: $id, label: $label) { id label updatedAt } }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteSearch($id: UUID!) { deleteSearch(id: $id) }\n"): (typeof documents)["\n  mutation DeleteSearch($id: UUID!) { deleteSearch(id: $id) }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RefreshSession($refreshToken: String!) {\n    refreshSession(refreshToken: $refreshToken) { token expiresAt refreshToken refreshExpiresAt }\n  }\n"): (typeof documents)["\n  mutation RefreshSession($refreshToken: String!) {\n    refreshSession(refreshToken: $refreshToken) { token expiresAt refreshToken refreshExpiresAt }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Me {\n    me { id email role }\n  }\n"): (typeof documents)["\n  query Me {\n    me { id email role }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;