"use client";

import { useApolloClient } from "@apollo/client/react";
import { useRouter } from "next/navigation";
import { toast } from "sonner";

import { forgetFreshness } from "@/lib/freshness";

export function LogoutButton() {
  const router = useRouter();
  const client = useApolloClient();
  return (
    <button
      type="button"
      className="secondary"
      onClick={async () => {
        try {
          const response = await fetch("/api/auth/logout", { method: "POST" });
          if (!response.ok) throw new Error(String(response.status));
        } catch {
          toast.error("Could not log out: the server did not answer. Try again.");
          return;
        }
        forgetFreshness();
        await client.clearStore().catch(() => {});
        router.push("/login");
        router.refresh();
      }}
    >
      Log out
    </button>
  );
}
