import { NextResponse, type NextRequest } from "next/server";

import { apiUrl } from "@/lib/config";
import { setSecurityHeaders } from "@/lib/headers";
import { refuseCrossSite } from "@/lib/route";
import { applySession, freshSession } from "@/lib/session";

/**
 * GraphQL over HTTP for browser code: the request goes on to the API with the session's
 * token added from the httpOnly cookie (refreshed first when it is about to expire).
 * Uploads (multipart) stream through. The proxy does not run here (it would hold the
 * upload in memory), so the security headers are set here.
 */
export async function POST(request: NextRequest) {
  const response = await forward(request);
  setSecurityHeaders(response.headers);
  return response;
}

async function forward(request: NextRequest): Promise<NextResponse> {
  const refused = refuseCrossSite(request);
  if (refused) return refused;
  const fresh = await freshSession(apiUrl(), request);
  const token = fresh.token;
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
    const response = new NextResponse(upstream.body, {
      status: upstream.status,
      headers: { "content-type": upstream.headers.get("content-type") ?? "application/json" },
    });
    return applySession(response, request, fresh);
  } catch {
    return NextResponse.json(
      { errors: [{ message: "the flight service is not reachable; try again in a moment" }] },
      { status: 502 },
    );
  }
}
