// No "server-only" here: the proxy (Next's middleware) uses this too. Nothing in it is
// secret; the tokens it handles only ever live in httpOnly cookies.
import { print } from "graphql";
import type { NextRequest, NextResponse } from "next/server";

import { graphql } from "@/gql";

/**
 * The session lives in two httpOnly cookies: the short access token (sent to the API as
 * `Authorization: Bearer`) and the refresh token that gets the next pair. In production
 * (FAST_FLIGHTS_ENV=production, or a request that came over https) both are `__Host-`
 * cookies: Secure, Path=/, no Domain.
 */
const NAMES = { access: "ff_session", refresh: "ff_refresh" } as const;

type Jar = { get(name: string): { value: string } | undefined };

/** Behind a TLS-terminating proxy the request itself is plain HTTP. */
function isHttps(request: NextRequest): boolean {
  const forwarded = request.headers.get("x-forwarded-proto")?.split(",")[0]?.trim();
  return forwarded ? forwarded === "https" : request.nextUrl.protocol === "https:";
}

function secureCookies(request: NextRequest): boolean {
  return process.env.FAST_FLIGHTS_ENV === "production" || isHttps(request);
}

function cookieName(kind: keyof typeof NAMES, secure: boolean): string {
  return secure ? `__Host-${NAMES[kind]}` : NAMES[kind];
}

/** The session's cookies, under either name (the `__Host-` one first). */
export function readSession(jar: Jar): { token?: string; refresh?: string } {
  const read = (kind: keyof typeof NAMES) => jar.get(cookieName(kind, true))?.value || jar.get(cookieName(kind, false))?.value || undefined;
  return { token: read("access"), refresh: read("refresh") };
}

export type Pair = { token: string; expiresAt: string; refreshToken: string; refreshExpiresAt: string };

export function writeSession(response: NextResponse, request: NextRequest, pair: Pair) {
  const secure = secureCookies(request);
  const options = { httpOnly: true, sameSite: "lax", secure, path: "/" } as const;
  response.cookies.set(cookieName("access", secure), pair.token, { ...options, expires: new Date(pair.expiresAt) });
  response.cookies.set(cookieName("refresh", secure), pair.refreshToken, { ...options, expires: new Date(pair.refreshExpiresAt) });
}

export function clearSession(response: NextResponse, request: NextRequest) {
  const secure = secureCookies(request);
  for (const kind of ["access", "refresh"] as const) {
    response.cookies.set(cookieName(kind, secure), "", { httpOnly: true, sameSite: "lax", secure, path: "/", maxAge: 0 });
  }
}

/**
 * Whether an access token is missing, expired or about to expire: within a quarter of its
 * lifetime, at most a minute, of its `exp`. The token is not verified here (the API does
 * that); this only decides when to refresh.
 */
export function needsRefresh(token: string | undefined, now = Date.now()): boolean {
  if (!token) return true;
  try {
    const payload = token.split(".")[1] ?? "";
    const claims = JSON.parse(atob(payload.replace(/-/g, "+").replace(/_/g, "/"))) as { exp?: number; iat?: number };
    if (typeof claims.exp !== "number") return true;
    const lifetime = typeof claims.iat === "number" ? claims.exp - claims.iat : 60;
    const margin = Math.min(60, Math.max(1, lifetime / 4));
    return claims.exp - margin <= now / 1000;
  } catch {
    return true;
  }
}

const RefreshSession = graphql(`
  mutation RefreshSession($refreshToken: String!) {
    refreshSession(refreshToken: $refreshToken) { token expiresAt refreshToken refreshExpiresAt }
  }
`);

/** A new pair; "ended" when the API refuses the refresh token (log in again). */
export type Refreshed = { pair: Pair } | "ended" | "unreachable";

/**
 * Refreshes in flight (and just done) by refresh token: parallel requests of one browser
 * carry the same cookie, and all of them get the one new pair, since each refresh token
 * works once. Kept a little while after it settles, for requests that were sent before
 * the browser stored the new cookies.
 */
const refreshes = new Map<string, Promise<Refreshed>>();
const KEEP_SETTLED_MS = 10_000;

export function refreshSession(api: string, refreshToken: string): Promise<Refreshed> {
  const known = refreshes.get(refreshToken);
  if (known) return known;
  const attempt = callRefresh(api, refreshToken);
  refreshes.set(refreshToken, attempt);
  void attempt.finally(() => setTimeout(() => refreshes.delete(refreshToken), KEEP_SETTLED_MS));
  return attempt;
}

async function callRefresh(api: string, refreshToken: string): Promise<Refreshed> {
  try {
    const response = await fetch(`${api}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ query: print(RefreshSession), variables: { refreshToken } }),
      cache: "no-store",
    });
    const body = (await response.json().catch(() => ({}))) as {
      data?: { refreshSession?: Pair } | null;
      errors?: { extensions?: { code?: string } }[];
    };
    if (body.data?.refreshSession) return { pair: body.data.refreshSession };
    const ended = (body.errors ?? []).some((e) => e.extensions?.code === "UNAUTHENTICATED");
    return ended ? "ended" : "unreachable";
  } catch {
    return "unreachable";
  }
}

/** What a request should send to the API, and what to do with the browser's cookies. */
export type Fresh = { token?: string; refreshed?: Pair; ended?: boolean };

/** The request's access token, refreshed first when it has expired or is about to. */
export async function freshSession(api: string, request: NextRequest): Promise<Fresh> {
  const { token, refresh } = readSession(request.cookies);
  if (!refresh || !needsRefresh(token)) return { token };
  const result = await refreshSession(api, refresh);
  if (result === "ended") return { ended: true };
  // The API is not reachable: go on with what there is; the next request tries again.
  if (result === "unreachable") return { token };
  return { token: result.pair.token, refreshed: result.pair };
}

/** Stores a refreshed pair in the browser, or clears an ended session. */
export function applySession(response: NextResponse, request: NextRequest, fresh: Fresh): NextResponse {
  if (fresh.refreshed) writeSession(response, request, fresh.refreshed);
  else if (fresh.ended) clearSession(response, request);
  return response;
}

/**
 * Hands a refreshed (or ended) session on to what renders this request: server components
 * read the request's cookies and cannot set any, so the proxy rewrites them.
 */
export function forwardSession(request: NextRequest, fresh: Fresh) {
  if (fresh.refreshed) {
    const secure = secureCookies(request);
    request.cookies.delete(cookieName("access", !secure));
    request.cookies.set(cookieName("access", secure), fresh.refreshed.token);
    request.cookies.set(cookieName("refresh", secure), fresh.refreshed.refreshToken);
  } else if (fresh.ended) {
    for (const secure of [true, false]) {
      request.cookies.delete(cookieName("access", secure));
      request.cookies.delete(cookieName("refresh", secure));
    }
  }
}
