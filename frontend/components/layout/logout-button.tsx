"use client";

import { useApolloClient } from "@apollo/client/react";
import { toast } from "sonner";

import { signingOut } from "@/lib/apollo";
import { forgetFreshness } from "@/lib/freshness";

export function LogoutButton() {
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
        // The page's live socket and queries now fail as signed out; a full load of the log-in
        // page drops them with the rest of the page's state, and nothing redirects meanwhile.
        signingOut();
        forgetFreshness();
        await client.clearStore().catch(() => {});
        window.location.assign("/login");
      }}
    >
      Log out
    </button>
  );
}
