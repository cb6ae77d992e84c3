"use client";

export default function ErrorPage({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <section className="panel" role="alert">
      <h1>Something went wrong</h1>
      <p>{error.digest ? "The server could not answer." : error.message}</p>
      <button type="button" onClick={reset}>Try again</button>
    </section>
  );
}
