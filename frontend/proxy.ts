import { type NextRequest, NextResponse } from "next/server";

/**
 * Every response gets a fresh script nonce and the security headers. Next.js reads the
 * nonce from the request's Content-Security-Policy and puts it on its own scripts; no
 * other inline script can run.
 */
export function proxy(request: NextRequest) {
  const nonce = btoa(crypto.randomUUID());
  const api = process.env.FAST_FLIGHTS_API_URL ?? "http://127.0.0.1:8080";
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
  response.headers.set("X-Content-Type-Options", "nosniff");
  response.headers.set("Referrer-Policy", "same-origin");
  response.headers.set("X-Frame-Options", "DENY");
  response.headers.set("Permissions-Policy", "camera=(), microphone=(), geolocation=()");
  return response;
}

export const config = {
  // Pages only: not the build's static files, nor the API routes (JSON, no scripts).
  matcher: [
    {
      source: "/((?!api|_next/static|_next/image|favicon.ico).*)",
      missing: [
        { type: "header", key: "next-router-prefetch" },
        { type: "header", key: "purpose", value: "prefetch" },
      ],
    },
  ],
};
