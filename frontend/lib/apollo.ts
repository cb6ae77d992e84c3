import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, Observable } from "@apollo/client";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import { getMainDefinition } from "@apollo/client/utilities";
import { OperationTypeNode } from "graphql";
import { createClient } from "graphql-ws";
import { map } from "rxjs";

import { keepFreshest } from "./freshness";
import { keysetList } from "./keyset-list";

/** Waits 1 s, 2 s, 4 s … up to 30 s after the `attempt`-th failure, with jitter. */
const backOff = (attempt: number) =>
  new Promise<void>((resolve) => setTimeout(resolve, Math.min(30_000, 1000 * 2 ** attempt) * (0.5 + Math.random() / 2)));

let signedOut = false;

/**
 * Called by the log-out button before it leaves the page: from then on a refused ticket or
 * query is the log-out itself, not a session that ended, and must not send the page to
 * "/login?expired=1" while it is on its way to "/login".
 */
export function signingOut() {
  signedOut = true;
}

function sessionEnded() {
  if (signedOut || window.location.pathname.startsWith("/login")) return;
  window.location.assign("/login?expired=1");
}

/**
 * A fresh socket ticket from this site's server, which holds the session cookie. A signed
 * out session goes to the log-in page; other failures (the server restarting) are retried
 * here, since graphql-ws gives up for good when this throws.
 */
async function socketTicket(): Promise<Record<string, string>> {
  for (let attempt = 0; ; attempt++) {
    try {
      const response = await fetch("/api/ws-ticket", { method: "POST" });
      if (response.status === 401) {
        sessionEnded();
        return new Promise(() => {});
      }
      if (response.ok) {
        const { ticket } = (await response.json()) as { ticket: string };
        return { authorization: `Bearer ${ticket}` };
      }
    } catch {
      // offline, or this site's server is restarting
    }
    await backOff(attempt);
  }
}

/**
 * Whether live updates flow: "idle" with no socket (nothing subscribed), "live" while
 * connected, "down" from an unplanned close until the socket is back.
 */
export type LiveState = "idle" | "live" | "down";

let liveState: LiveState = "idle";
const liveListeners = new Set<() => void>();

function setLive(state: LiveState) {
  if (state === liveState) return;
  liveState = state;
  liveListeners.forEach((listener) => listener());
}

/** For `useSyncExternalStore`. */
export const live = {
  subscribe(listener: () => void) {
    liveListeners.add(listener);
    return () => liveListeners.delete(listener);
  },
  get: (): LiveState => liveState,
};

/**
 * The one Apollo client of a page. In the browser: queries and mutations through this
 * site's `/api/graphql` (which adds the session), subscriptions over the API's websocket.
 * While server-rendering client components it fetches nothing: pages hand their
 * server-fetched data to the cache instead.
 */
export function makeClient(wsUrl: string): ApolloClient {
  const cache = new InMemoryCache({
    typePolicies: {
      // Progress events are values, not entities: they update the SearchJob they carry.
      JobProgress: { keyFields: false },
      CalendarCell: { keyFields: false },
      PricePoint: { keyFields: false },
      Money: { keyFields: false },
      Provider: { keyFields: ["name"] },
      Query: { fields: { webhookDeliveries: keysetList(["endpointId", "status"]) } },
    },
  });
  if (typeof window === "undefined") {
    return new ApolloClient({ cache, link: new ApolloLink(() => new Observable(() => {})) });
  }
  const http = new HttpLink({ uri: "/api/graphql" });
  const ws = new GraphQLWsLink(
    createClient({
      url: wsUrl,
      lazy: true,
      connectionParams: socketTicket,
      // Pings find a dead connection (a laptop waking up) within seconds, not minutes.
      keepAlive: 15_000,
      retryAttempts: Infinity,
      retryWait: backOff,
      // Reconnect after any close, the token's expiry (4403) included: a new ticket is fetched.
      shouldRetry: () => true,
      on: {
        connected: () => setLive("live"),
        // 1000 is the socket closing because nothing is subscribed; anything else was not
        // planned, and a retry follows.
        closed: (event) => setLive((event as { code?: number } | undefined)?.code === 1000 ? "idle" : "down"),
        connecting: (isRetry) => {
          if (isRetry) setLive("down");
        },
      },
    }),
  );
  const transport = ApolloLink.split(
    ({ query }) => {
      const definition = getMainDefinition(query);
      return definition.kind === "OperationDefinition" && definition.operation === OperationTypeNode.SUBSCRIPTION;
    },
    ws,
    http,
  );
  const guard = new ApolloLink((operation, forward) =>
    forward(operation).pipe(
      map((result) => {
        if (result.errors?.some((e) => e.extensions?.code === "UNAUTHENTICATED")) sessionEnded();
        return keepFreshest(result);
      }),
    ),
  );
  return new ApolloClient({ cache, link: ApolloLink.from([guard, transport]) });
}
