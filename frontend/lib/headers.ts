// No "server-only": the proxy uses this too.

/**
 * The headers of every answer of the web app: no sniffing, no framing, referrers only to
 * this site, and in production (FAST_FLIGHTS_ENV=production) HSTS.
 */
export function setSecurityHeaders(headers: Headers) {
  headers.set("X-Content-Type-Options", "nosniff");
  headers.set("Referrer-Policy", "same-origin");
  headers.set("X-Frame-Options", "DENY");
  if (process.env.FAST_FLIGHTS_ENV === "production") {
    headers.set("Strict-Transport-Security", "max-age=63072000; includeSubDomains");
  }
}
