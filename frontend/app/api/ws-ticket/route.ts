import { NextResponse, type NextRequest } from "next/server";

import { graphql } from "@/gql";
import { apiUrl } from "@/lib/config";
import { refuseCrossSite } from "@/lib/route";
import { callApi } from "@/lib/server";
import { applySession, freshSession } from "@/lib/session";

const CreateSocketTicket = graphql(`
  mutation CreateSocketTicket {
    createSocketTicket { ticket expiresAt }
  }
`);

/**
 * A one-minute ticket for the browser's websocket, made from the session cookie: the
 * session token itself never reaches browser code. An expiring session is refreshed first.
 */
export async function POST(request: NextRequest) {
  const refused = refuseCrossSite(request);
  if (refused) return refused;
  const fresh = await freshSession(apiUrl(), request);
  const answer = (body: unknown, init?: ResponseInit) => applySession(NextResponse.json(body, init), request, fresh);
  if (!fresh.token) return answer({ error: "signed out" }, { status: 401 });
  const result = await callApi(CreateSocketTicket, {}, fresh.token).catch(() => null);
  if (!result) return answer({ error: "the API did not answer" }, { status: 502 });
  if (!result.data) {
    // Only a dead session is 401 (the page then goes to log in); anything else is tried again.
    const signedOut = result.status === 401 || (result.errors ?? []).some((e) => e.extensions?.code === "UNAUTHENTICATED");
    const error = result.errors?.map((e) => e.message).join("; ") ?? `the API answered ${result.status}`;
    return answer({ error }, { status: signedOut ? 401 : 502 });
  }
  return answer(result.data.createSocketTicket, { headers: { "cache-control": "no-store" } });
}
