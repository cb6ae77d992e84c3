import { graphql } from "@/gql";

export const ImportFields = graphql(`
  fragment ImportFields on Import {
    id filename source status sizeBytes rowsRead rowsImported rowsRejected percent error createdAt finishedAt
  }
`);

export const Imports = graphql(`
  query Imports {
    imports(first: 20) { nodes { ...ImportFields } }
  }
`);

export const ImportRejections = graphql(`
  query ImportRejections($id: UUID!) {
    import(id: $id) { id filename rowsRejected rejections(first: 1000) { line problems content } }
  }
`);

export const ImportProgress = graphql(`
  subscription ImportProgressLive($id: UUID!) {
    importProgress(id: $id) { ...ImportFields }
  }
`);

export const AdminProviders = graphql(`
  query AdminProviders {
    providers {
      name kind enabled baseUrl hasApiKey timeoutMs retries
      rateLimit { perSecond scope }
      capabilities { dateWindowDays nightsRange maxDestinations }
      health { calls failures errorRate p50Ms p95Ms breaker }
    }
  }
`);

export const AllSearches = graphql(`
  query AllSearches($status: JobStatus, $ownerEmail: String) {
    jobs(first: 100, scope: ALL, status: $status, ownerEmail: $ownerEmail) { nodes { ...JobSummary owner { email } } }
  }
`);

export const Users = graphql(`
  query Users($search: String, $role: Role, $after: String) {
    users(first: 50, search: $search, role: $role, after: $after) {
      nodes { id email role createdAt }
      pageInfo { hasNextPage endCursor }
    }
  }
`);

export const SetUserRole = graphql(`
  mutation SetUserRole($userId: UUID!, $role: Role!) { setUserRole(userId: $userId, role: $role) { id role } }
`);

export const Inventory = graphql(`
  query Inventory($filter: InventoryFilter, $first: Int!, $after: String) {
    inventory(filter: $filter, first: $first, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes {
        id flightNumber airline origin destination departureAt arrivalAt departureDate durationMinutes
        cabin seatsTotal seatsAvailable price { amount currency minorUnits }
      }
    }
  }
`);

export const WebhookEndpointFields = graphql(`
  fragment WebhookEndpointFields on WebhookEndpoint {
    id url eventTypes description enabled parallel createdAt updatedAt
    failingSince disabledAt disabledReason previousSecretExpiresAt
  }
`);

export const WebhookEndpoints = graphql(`
  query WebhookEndpoints {
    webhookEndpoints { ...WebhookEndpointFields }
  }
`);

export const WebhookEndpointNow = graphql(`
  query WebhookEndpointNow($id: UUID!) {
    webhookEndpoint(id: $id) { ...WebhookEndpointFields }
  }
`);

export const WebhookDeliveryFields = graphql(`
  fragment WebhookDeliveryFields on WebhookDelivery {
    id endpointId eventId eventSequence eventType status attemptCount nextAttemptAt
    lastStatusCode lastError finishedAt createdAt
    attempts { id attemptedAt statusCode latencyMs responseBody error }
  }
`);

// One list per endpoint and status in the cache: "more" pages are added to it and a
// refresh replaces its head (the `webhookDeliveries` field policy in lib/apollo.ts).
export const WebhookDeliveries = graphql(`
  query WebhookDeliveries($endpointId: UUID!, $first: Int!, $after: String, $status: WebhookDeliveryStatus) {
    webhookDeliveries(endpointId: $endpointId, first: $first, after: $after, status: $status) {
      pageInfo { hasNextPage endCursor }
      nodes { ...WebhookDeliveryFields }
    }
  }
`);
