import type { Metadata } from "next";
import { redirect } from "next/navigation";

import { AuthForm } from "@/components/auth/auth-form";
import { safeNext } from "@/lib/next-path";
import { viewer } from "@/lib/viewer";

export const metadata: Metadata = { title: "Sign up" };

export default async function SignupPage({ searchParams }: { searchParams: Promise<{ error?: string; next?: string }> }) {
  const { error, next } = await searchParams;
  const then = safeNext(next);
  if (await viewer()) redirect(then);
  return (
    <>
      <h1>Create an account</h1>
      <AuthForm mode="signup" error={error} next={then} />
    </>
  );
}
