import "server-only";

import { NextResponse, type NextRequest } from "next/server";

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
