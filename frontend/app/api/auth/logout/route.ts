import { NextResponse, type NextRequest } from "next/server";

import { clearSession, refuseCrossSite } from "@/lib/route";

export async function POST(request: NextRequest) {
  const refused = refuseCrossSite(request);
  if (refused) return refused;
  const response = NextResponse.json({ ok: true });
  clearSession(response);
  return response;
}
