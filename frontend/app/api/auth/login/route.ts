import type { NextRequest } from "next/server";

import { graphql } from "@/gql";
import { authenticate } from "@/lib/auth-route";

const LogIn = graphql(`
  mutation LogIn($email: String!, $password: String!) {
    logIn(email: $email, password: $password) {
      token
      expiresAt
      refreshToken
      refreshExpiresAt
      user { id email role }
    }
  }
`);

export async function POST(request: NextRequest) {
  return authenticate(request, LogIn, (data) => data.logIn);
}
