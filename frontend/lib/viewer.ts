import "server-only";

import { graphql } from "@/gql";

import { callApi, sessionToken } from "./server";

const Me = graphql(`
  query Me {
    me { id email role }
  }
`);

export type Viewer = { id: string; email: string; role: "USER" | "ADMIN" };

/** The signed-in user, or null (no cookie, or a token the API no longer takes). */
export async function viewer(): Promise<Viewer | null> {
  const token = await sessionToken();
  if (!token) return null;
  try {
    const result = await callApi(Me, {}, token);
    return result.data?.me ?? null;
  } catch {
    return null;
  }
}
