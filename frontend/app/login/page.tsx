import type { Metadata } from "next";
import { redirect } from "next/navigation";

import { AuthForm } from "@/components/auth/auth-form";
import { viewer } from "@/lib/viewer";

export const metadata: Metadata = { title: "Log in" };

export default async function LoginPage({ searchParams }: { searchParams: Promise<{ expired?: string; error?: string }> }) {
  if (await viewer()) redirect("/searches");
  const { expired, error } = await searchParams;
  return (
    <>
      <h1>Log in</h1>
      <AuthForm mode="login" expired={expired === "1"} error={error} />
    </>
  );
}
