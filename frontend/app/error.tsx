"use client";

import { useRouter } from "next/navigation";
import { startTransition } from "react";

export default function ErrorPage({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  const router = useRouter();
  return (
    <section className="panel" role="alert">
      <h1>Something went wrong</h1>
      <p>{error.digest ? "The server could not answer." : error.message}</p>
      <button
        type="button"
        onClick={() => {
          // A server-rendered page failed: fetch it again, then render it in place of this.
          startTransition(() => {
            router.refresh();
            reset();
          });
        }}
      >
        Try again
      </button>
    </section>
  );
}
