import { type NextRequest, NextResponse } from "next/server";

import { setSecurityHeaders } from "./lib/headers";
import { applySession, forwardSession, freshSession } from "./lib/session";

function apiUrl(): string {
  return (process.env.FAST_FLIGHTS_API_URL ?? "http://127.0.0.1:8080").replace(/\/+$/, "");
}

/**
 * Every answer gets the security headers (and HSTS in production; `/api/graphql` sets its
 * own, see `config` below). Pages (and their
 * prefetches) first refresh an expiring session, since server components cannot set
 * cookies; the API routes refresh their own. Pages also get a fresh script nonce: Next.js
 * reads it from the request's Content-Security-Policy and puts it on its own scripts; no
 * other inline script can run.
 */
export async function proxy(request: NextRequest) {
  const path = request.nextUrl.pathname;
  const isPage = !path.startsWith("/api/") && !path.startsWith("/_next/") && path !== "/favicon.ico";
  const response = isPage ? await page(request) : NextResponse.next();
  setSecurityHeaders(response.headers);
  return response;
}

async function page(request: NextRequest): Promise<NextResponse> {
  const api = apiUrl();
  const fresh = await freshSession(api, request);
  forwardSession(request, fresh);
  // Server components read the page's own address from here (a log-in redirect comes back to it).
  request.headers.set("x-page-path", request.nextUrl.pathname + request.nextUrl.search);
  const prefetch = request.headers.has("next-router-prefetch") || request.headers.get("purpose") === "prefetch";
  if (prefetch) {
    return applySession(NextResponse.next({ request: { headers: new Headers(request.headers) } }), request, fresh);
  }
  const nonce = btoa(crypto.randomUUID());
  const ws = process.env.FAST_FLIGHTS_PUBLIC_WS_URL ?? `${api.replace(/^http/, "ws")}/graphql`;
  const csp = [
    "default-src 'self'",
    // `next dev` evaluates modules with eval(); a production build never does.
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${process.env.NODE_ENV === "production" ? "" : " 'unsafe-eval'"}`,
    // Charts and progress bars size and colour elements with style attributes.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    `connect-src 'self' ${new URL(ws).origin}`,
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
  const requestHeaders = new Headers(request.headers);
  requestHeaders.set("x-nonce", nonce);
  requestHeaders.set("Content-Security-Policy", csp);
  const response = NextResponse.next({ request: { headers: requestHeaders } });
  response.headers.set("Content-Security-Policy", csp);
  response.headers.set("Permissions-Policy", "camera=(), microphone=(), geolocation=()");
  return applySession(response, request, fresh);
}

export const config = {
  // Everything, the build's static files included (for HSTS), but `/api/graphql`: a proxy
  // holds a request's body in memory, and uploads stream through there.
  matcher: ["/((?!api/graphql).*)"],
};
