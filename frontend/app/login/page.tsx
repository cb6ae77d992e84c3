import type { Metadata } from "next";
import { redirect } from "next/navigation";

import { AuthForm } from "@/components/auth/auth-form";
import { safeNext } from "@/lib/next-path";
import { viewer } from "@/lib/viewer";

export const metadata: Metadata = { title: "Log in" };

export default async function LoginPage({ searchParams }: { searchParams: Promise<{ expired?: string; error?: string; next?: string }> }) {
  const { expired, error, next } = await searchParams;
  const then = safeNext(next);
  if (await viewer()) redirect(then);
  return (
    <>
      <h1>Log in</h1>
      <AuthForm mode="login" expired={expired === "1"} error={error} next={then} />
    </>
  );
}
