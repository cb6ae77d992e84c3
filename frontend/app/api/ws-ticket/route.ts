import { NextResponse, type NextRequest } from "next/server";

import { graphql } from "@/gql";
import { refuseCrossSite } from "@/lib/route";
import { callApi, sessionToken } from "@/lib/server";

const CreateSocketTicket = graphql(`
  mutation CreateSocketTicket {
    createSocketTicket { ticket expiresAt }
  }
`);

/**
 * A one-minute ticket for the browser's websocket, made from the session cookie: the
 * session token itself never reaches browser code.
 */
export async function POST(request: NextRequest) {
  const refused = refuseCrossSite(request);
  if (refused) return refused;
  const token = await sessionToken();
  if (!token) return NextResponse.json({ error: "signed out" }, { status: 401 });
  const result = await callApi(CreateSocketTicket, {}, token).catch(() => null);
  if (!result) return NextResponse.json({ error: "the API did not answer" }, { status: 502 });
  if (!result.data) {
    // Only a dead session is 401 (the page then goes to log in); anything else is tried again.
    const signedOut = result.status === 401 || (result.errors ?? []).some((e) => e.extensions?.code === "UNAUTHENTICATED");
    const error = result.errors?.map((e) => e.message).join("; ") ?? `the API answered ${result.status}`;
    return NextResponse.json({ error }, { status: signedOut ? 401 : 502 });
  }
  return NextResponse.json(result.data.createSocketTicket, { headers: { "cache-control": "no-store" } });
}
