import { NextResponse, type NextRequest } from "next/server";

import { graphql } from "@/gql";
import { apiUrl } from "@/lib/config";
import { refuseCrossSite } from "@/lib/route";
import { callApi } from "@/lib/server";
import { clearSession, freshSession } from "@/lib/session";

const LogOut = graphql(`
  mutation LogOut {
    logOut
  }
`);

/** Ends the session at the API (its tokens stop working everywhere), then the cookies. */
export async function POST(request: NextRequest) {
  const refused = refuseCrossSite(request);
  if (refused) return refused;
  const { token } = await freshSession(apiUrl(), request);
  if (token) {
    const result = await callApi(LogOut, {}, token).catch(() => null);
    // A session the API no longer takes has ended already; anything else is tried again.
    const ended = result && (result.data?.logOut || result.status === 401);
    if (!ended) {
      return NextResponse.json({ error: "the flight service did not answer; try again" }, { status: 502 });
    }
  }
  const response = NextResponse.json({ ok: true });
  clearSession(response, request);
  return response;
}
