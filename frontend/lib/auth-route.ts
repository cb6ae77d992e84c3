import "server-only";

import type { TypedDocumentNode } from "@apollo/client";
import { NextResponse, type NextRequest } from "next/server";

import { callApi } from "./server";
import { safeNext } from "./next-path";
import { refuseCrossSite } from "./route";
import { writeSession, type Pair } from "./session";

type Payload = Pair & { user: { id: string; email: string; role: string } };

/**
 * The browser's address as this server was told it: the last `X-Forwarded-For` hop (Next
 * sets it from the socket when the request has none; a proxy in front appends the client
 * it saw), else `X-Real-IP`. Behind no proxy, a browser that sends its own
 * `X-Forwarded-For` chooses it: put a proxy in front that sets the header (docs/security.md).
 */
function clientAddress(request: NextRequest): string | undefined {
  const hops = (request.headers.get("x-forwarded-for") ?? "")
    .split(",")
    .map((hop) => hop.trim())
    .filter(Boolean);
  return hops.at(-1) ?? (request.headers.get("x-real-ip")?.trim() || undefined);
}

/** `logIn` or `signUp` through the API; on success the tokens go into the cookies only. */
export async function authenticate<T>(
  request: NextRequest,
  document: TypedDocumentNode<T, { email: string; password: string }>,
  pick: (data: T) => Payload,
): Promise<NextResponse> {
  const refused = refuseCrossSite(request);
  if (refused) return refused;
  // Without JavaScript (or before it loads) the page posts the form itself: answer that
  // with redirects. The password never travels in a URL either way.
  const isForm = !(request.headers.get("content-type") ?? "").includes("application/json");
  let email = "";
  let password = "";
  if (isForm) {
    const form = await request.formData().catch(() => null);
    email = String(form?.get("email") ?? "");
    password = String(form?.get("password") ?? "");
  } else {
    const body = (await request.json().catch(() => null)) as { email?: unknown; password?: unknown } | null;
    email = typeof body?.email === "string" ? body.email : "";
    password = typeof body?.password === "string" ? body.password : "";
  }
  const next = safeNext(request.nextUrl.searchParams.get("next"));
  const back = (errors: { message: string }[]) => {
    const url = new URL(request.nextUrl.pathname.endsWith("/signup") ? "/signup" : "/login", request.url);
    url.searchParams.set("error", errors.map((e) => e.message).join("; ").slice(0, 300));
    if (next !== "/searches") url.searchParams.set("next", next);
    return NextResponse.redirect(url, 303);
  };
  let result;
  try {
    result = await callApi(document, { email, password }, undefined, clientAddress(request));
  } catch {
    const errors = [{ message: "the flight service is not reachable; try again in a moment" }];
    return isForm ? back(errors) : NextResponse.json({ errors }, { status: 502 });
  }
  if (result.errors?.length || !result.data) {
    const errors = result.errors ?? [{ message: "that did not work; try again" }];
    return isForm ? back(errors) : NextResponse.json({ errors }, { status: 400 });
  }
  const payload = pick(result.data);
  const response = isForm
    ? NextResponse.redirect(new URL(next, request.url), 303)
    : NextResponse.json({ user: payload.user });
  writeSession(response, request, payload);
  return response;
}
