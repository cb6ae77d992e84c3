import Link from "next/link";
import { redirect } from "next/navigation";

import { viewer } from "@/lib/viewer";

export default async function Home() {
  if (await viewer()) redirect("/searches");
  return (
    <section className="panel">
      <h1>Find the cheapest days to fly</h1>
      <p>
        Search every departure date of the next months, every airport of a city and every trip
        length at once. Searches run in the background — for hours if they must — and you watch
        them fill in live.
      </p>
      <div className="row">
        <Link className="button" href="/signup">Create an account</Link>
        <Link href="/login">Log in</Link>
      </div>
    </section>
  );
}
