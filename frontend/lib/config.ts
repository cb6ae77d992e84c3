import "server-only";

/** Where the fast-flights API is, as this server reaches it. */
export function apiUrl(): string {
  return (process.env.FAST_FLIGHTS_API_URL ?? "http://127.0.0.1:8080").replace(/\/+$/, "");
}

/** Where browsers open the API's websocket (graphql-transport-ws). */
export function publicWsUrl(): string {
  const explicit = process.env.FAST_FLIGHTS_PUBLIC_WS_URL;
  if (explicit) return explicit;
  return `${apiUrl().replace(/^http/, "ws")}/graphql`;
}

