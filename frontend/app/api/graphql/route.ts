import { NextResponse, type NextRequest } from "next/server";

import { apiUrl } from "@/lib/config";
import { refuseCrossSite } from "@/lib/route";
import { sessionToken } from "@/lib/server";

/**
 * GraphQL over HTTP for browser code: the request goes on to the API with the session's
 * token added from the httpOnly cookie. Uploads (multipart) stream through.
 */
export async function POST(request: NextRequest) {
  const refused = refuseCrossSite(request);
  if (refused) return refused;
  const token = await sessionToken();
  const headers: Record<string, string> = {
    "content-type": request.headers.get("content-type") ?? "application/json",
    accept: "application/json",
  };
  const length = request.headers.get("content-length");
  if (length) headers["content-length"] = length;
  if (token) headers.authorization = `Bearer ${token}`;
  try {
    const upstream = await fetch(`${apiUrl()}/graphql`, {
      method: "POST",
      headers,
      body: request.body,
      // @ts-expect-error: Node's fetch needs this to stream a request body.
      duplex: "half",
      cache: "no-store",
    });
    return new NextResponse(upstream.body, {
      status: upstream.status,
      headers: { "content-type": upstream.headers.get("content-type") ?? "application/json" },
    });
  } catch {
    return NextResponse.json(
      { errors: [{ message: "the flight service is not reachable; try again in a moment" }] },
      { status: 502 },
    );
  }
}
