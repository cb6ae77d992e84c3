import Link from "next/link";

export default function NotFound() {
  return (
    <section className="panel">
      <h1>Not found</h1>
      <p>There is nothing here, or it is not yours to see.</p>
      <Link href="/searches">Back to my searches</Link>
    </section>
  );
}
