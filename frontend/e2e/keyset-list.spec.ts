// A unit test of lib/keyset-list.ts (no browser): "More" pages add to one list of webhook
// deliveries, and a refresh of the first page keeps the pages loaded after it.
import { InMemoryCache } from "@apollo/client";
import { expect, test } from "@playwright/test";

import { WebhookDeliveries } from "../components/admin/documents";
import { keysetList } from "../lib/keyset-list";

const ENDPOINT = "0193a000-0000-7000-8000-000000000001";

function delivery(n: number, status = "SUCCEEDED") {
  return {
    __typename: "WebhookDelivery" as const,
    id: `0193a000-0000-7000-8000-${String(n).padStart(12, "0")}`,
    endpointId: ENDPOINT, eventId: `0193b000-0000-7000-8000-${String(n).padStart(12, "0")}`,
    eventSequence: n, eventType: "import.finished", status: status as "SUCCEEDED" | "PENDING",
    attemptCount: 1, nextAttemptAt: null, lastStatusCode: 200, lastError: null,
    finishedAt: null, createdAt: "2026-12-02T07:00:00Z", attempts: [],
  };
}

/** Deliveries `from` down to `to`, newest first, as one page of the API. */
function page(from: number, to: number, hasNextPage: boolean, status?: (n: number) => string) {
  const nodes = [];
  for (let n = from; n >= to; n--) nodes.push(delivery(n, status?.(n)));
  return {
    webhookDeliveries: {
      __typename: "WebhookDeliveryConnection" as const,
      pageInfo: { __typename: "PageInfo" as const, hasNextPage, endCursor: `c${to}` },
      nodes,
    },
  };
}

function cache() {
  return new InMemoryCache({ typePolicies: { Query: { fields: { webhookDeliveries: keysetList(["endpointId", "status"]) } } } });
}

const first = { endpointId: ENDPOINT, first: 3, status: null };
const sequences = (c: InMemoryCache) =>
  c.readQuery({ query: WebhookDeliveries, variables: first })?.webhookDeliveries.nodes.map((d) => d.eventSequence);

test("a page after a cursor is added at the end, once", () => {
  const c = cache();
  c.writeQuery({ query: WebhookDeliveries, variables: first, data: page(9, 7, true) });
  c.writeQuery({ query: WebhookDeliveries, variables: { ...first, after: "c7" }, data: page(6, 4, true) });
  expect(sequences(c)).toEqual([9, 8, 7, 6, 5, 4]);
  expect(c.readQuery({ query: WebhookDeliveries, variables: first })?.webhookDeliveries.pageInfo.endCursor).toBe("c4");
});

test("a refreshed first page replaces the head and keeps the older pages after it", () => {
  const c = cache();
  c.writeQuery({ query: WebhookDeliveries, variables: first, data: page(9, 7, true) });
  c.writeQuery({ query: WebhookDeliveries, variables: { ...first, after: "c7" }, data: page(6, 4, true) });
  // A new delivery (10) came, and 9 is being sent again.
  c.writeQuery({ query: WebhookDeliveries, variables: first, data: page(10, 8, true, (n) => (n === 9 ? "PENDING" : "SUCCEEDED")) });
  expect(sequences(c)).toEqual([10, 9, 8, 7, 6, 5, 4]);
  const list = c.readQuery({ query: WebhookDeliveries, variables: first })?.webhookDeliveries;
  expect(list?.nodes[1].status).toBe("PENDING");
  expect(list?.pageInfo.endCursor).toBe("c4");
});

test("a first page that does not reach the loaded ones, or is the whole list, replaces it", () => {
  const c = cache();
  c.writeQuery({ query: WebhookDeliveries, variables: first, data: page(9, 7, true) });
  c.writeQuery({ query: WebhookDeliveries, variables: { ...first, after: "c7" }, data: page(6, 4, true) });
  c.writeQuery({ query: WebhookDeliveries, variables: first, data: page(20, 18, true) });
  expect(sequences(c)).toEqual([20, 19, 18]);
  c.writeQuery({ query: WebhookDeliveries, variables: first, data: page(20, 19, false) });
  expect(sequences(c)).toEqual([20, 19]);
});

test("each status filter keeps a list of its own", () => {
  const c = cache();
  c.writeQuery({ query: WebhookDeliveries, variables: first, data: page(9, 7, false) });
  c.writeQuery({ query: WebhookDeliveries, variables: { ...first, status: "FAILED" }, data: page(3, 3, false) });
  expect(sequences(c)).toEqual([9, 8, 7]);
});
