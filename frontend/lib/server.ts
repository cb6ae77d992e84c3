import "server-only";

import type { TypedDocumentNode } from "@apollo/client";
import { addTypenameToDocument } from "@apollo/client/utilities";
import { print } from "graphql";
import { cookies, headers } from "next/headers";
import { cache } from "react";
import { notFound, redirect } from "next/navigation";

import { apiUrl } from "./config";
import type { ApiError } from "./graphql-errors";
import { loginUrl } from "./next-path";
import { readSession } from "./session";

/**
 * The access token of this request. Server components cannot set cookies, so the proxy
 * refreshes an expiring one before the page renders and hands the new one on.
 */
export async function sessionToken(): Promise<string | undefined> {
  return readSession(await cookies()).token;
}

export type GraphqlResult<T> = { data?: T | null; errors?: ApiError[]; status: number };

/**
 * One GraphQL request to the API as the signed-in user (if any). `clientAddress` names the
 * browser in `X-Forwarded-For`, so the API's per-address limits (log-in, sign-up) count
 * each browser, not this server.
 */
export async function callApi<T, V>(
  document: TypedDocumentNode<T, V>,
  variables: V,
  token?: string,
  clientAddress?: string,
): Promise<GraphqlResult<T>> {
  const response = await fetch(`${apiUrl()}/graphql`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json",
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(clientAddress ? { "x-forwarded-for": clientAddress } : {}),
    },
    // With `__typename` everywhere, as Apollo's own requests: the answers seed its cache.
    body: JSON.stringify({ query: print(addTypenameToDocument(document)), variables }),
    cache: "no-store",
  });
  const body = (await response.json().catch(() => ({}))) as { data?: T; errors?: ApiError[] };
  return { data: body.data, errors: body.errors, status: response.status };
}

/** One request per document and variables while a page renders (its metadata asks too). */
const queryOnce = cache((document: TypedDocumentNode<unknown, unknown>, variables: string, token: string) =>
  callApi(document, JSON.parse(variables) as unknown, token),
);

/** The log-in page, coming back afterwards to the page being rendered (set by the proxy). */
export async function loginHere(extra?: Record<string, string>): Promise<string> {
  return loginUrl((await headers()).get("x-page-path"), extra);
}

/**
 * A query for a server component: signed out (or with a dead token) goes to the log-in
 * page; NOT_FOUND is the 404 page; any other error is thrown for the error page.
 */
export async function serverQuery<T, V>(document: TypedDocumentNode<T, V>, variables: V): Promise<T> {
  const token = await sessionToken();
  if (!token) redirect(await loginHere());
  const result = (await queryOnce(document as TypedDocumentNode<unknown, unknown>, JSON.stringify(variables), token)) as GraphqlResult<T>;
  const codes = (result.errors ?? []).map((e) => e.extensions?.code);
  if (result.status === 401 || codes.includes("UNAUTHENTICATED")) redirect(await loginHere({ expired: "1" }));
  if (codes.includes("NOT_FOUND") || codes.includes("FORBIDDEN")) notFound();
  if (result.errors?.length || !result.data) {
    throw new Error(result.errors?.map((e) => e.message).join("; ") ?? `the API answered ${result.status}`);
  }
  return result.data;
}
