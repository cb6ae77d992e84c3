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
  const result = await callApi(CreateSocketTicket, {}, token);
  if (!result.data) return NextResponse.json({ error: "no ticket" }, { status: result.status === 200 ? 401 : result.status });
  return NextResponse.json(result.data.createSocketTicket, { headers: { "cache-control": "no-store" } });
}
