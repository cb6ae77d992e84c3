"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { startTransition } from "react";

export default function ErrorPage({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  const router = useRouter();
  return (
    <section className="panel" role="alert">
      <h1>Something went wrong</h1>
      <p>{error.digest ? "The server could not answer. It may be busy or restarting: try again in a moment." : error.message}</p>
      <div className="row">
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
      <Link href="/searches">Go to my searches</Link>
      </div>
    </section>
  );
}
