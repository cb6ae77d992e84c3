import type { NextRequest } from "next/server";

import { graphql } from "@/gql";
import { authenticate } from "@/lib/auth-route";

const SignUp = graphql(`
  mutation SignUp($email: String!, $password: String!) {
    signUp(email: $email, password: $password) {
      token
      expiresAt
      refreshToken
      refreshExpiresAt
      user { id email role }
    }
  }
`);

export async function POST(request: NextRequest) {
  return authenticate(request, SignUp, (data) => data.signUp);
}
