import type { Metadata } from "next";
import { redirect } from "next/navigation";

import { AuthForm } from "@/components/auth/auth-form";
import { viewer } from "@/lib/viewer";

export const metadata: Metadata = { title: "Sign up" };

export default async function SignupPage({ searchParams }: { searchParams: Promise<{ error?: string }> }) {
  if (await viewer()) redirect("/searches");
  const { error } = await searchParams;
  return (
    <>
      <h1>Create an account</h1>
      <AuthForm mode="signup" error={error} />
    </>
  );
}
