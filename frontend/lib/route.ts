import "server-only";

import { NextResponse, type NextRequest } from "next/server";

import { SESSION_COOKIE } from "./config";

/**
 * Cookie-authenticated POSTs must come from this site's own pages: the session cookie is
 * SameSite=Lax, and the Origin header is checked as well.
 */
export function refuseCrossSite(request: NextRequest): NextResponse | null {
  const origin = request.headers.get("origin");
  const host = request.headers.get("host");
  if (origin && host && originHost(origin) !== host) {
    return NextResponse.json(
      { errors: [{ message: "cross-site requests are refused", extensions: { code: "FORBIDDEN" } }] },
      { status: 403 },
    );
  }
  return null;
}

/** The host of an Origin header; `null` (sandboxed frames, some redirects) has none. */
function originHost(origin: string): string | null {
  try {
    return new URL(origin).host || null;
  } catch {
    return null;
  }
}

/** Behind a TLS-terminating proxy the request itself is plain HTTP. */
function isHttps(request: NextRequest): boolean {
  const forwarded = request.headers.get("x-forwarded-proto")?.split(",")[0]?.trim();
  return forwarded ? forwarded === "https" : request.nextUrl.protocol === "https:";
}

export function setSession(response: NextResponse, request: NextRequest, token: string, expiresAt: string) {
  response.cookies.set(SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: "lax",
    secure: isHttps(request),
    path: "/",
    expires: new Date(expiresAt),
  });
}

export function clearSession(response: NextResponse) {
  response.cookies.set(SESSION_COOKIE, "", { httpOnly: true, sameSite: "lax", path: "/", maxAge: 0 });
}
