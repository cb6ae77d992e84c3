"use client";

import { useApolloClient } from "@apollo/client/react";
import { useRouter } from "next/navigation";

export function LogoutButton() {
  const router = useRouter();
  const client = useApolloClient();
  return (
    <button
      type="button"
      className="secondary"
      onClick={async () => {
        await fetch("/api/auth/logout", { method: "POST" });
        await client.clearStore();
        router.push("/login");
        router.refresh();
      }}
    >
      Log out
    </button>
  );
}
