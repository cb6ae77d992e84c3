import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, Observable } from "@apollo/client";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import { getMainDefinition } from "@apollo/client/utilities";
import { OperationTypeNode } from "graphql";
import { createClient } from "graphql-ws";

/** A fresh socket ticket from this site's server, which holds the session cookie. */
async function socketTicket(): Promise<Record<string, string>> {
  const response = await fetch("/api/ws-ticket", { method: "POST" });
  if (!response.ok) return {};
  const { ticket } = (await response.json()) as { ticket: string };
  return { authorization: `Bearer ${ticket}` };
}

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
      retryAttempts: Infinity,
      // Reconnect after any close, the token's expiry (4403) included: a new ticket is fetched.
      shouldRetry: () => true,
    }),
  );
  const link = ApolloLink.split(
    ({ query }) => {
      const definition = getMainDefinition(query);
      return definition.kind === "OperationDefinition" && definition.operation === OperationTypeNode.SUBSCRIPTION;
    },
    ws,
    http,
  );
  return new ApolloClient({ cache, link });
}
