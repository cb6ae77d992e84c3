"use client";

import { useApolloClient, useMutation } from "@apollo/client/react";
import { CombinedGraphQLErrors } from "@apollo/client/errors";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { toast } from "sonner";

import { graphql } from "@/gql";
import type { JobSummaryFragment } from "@/gql/graphql";

import { searchAgainInput } from "./spec";

const SearchAgain = graphql(`
  mutation SearchAgain($input: SearchInput!) {
    startSearch(input: $input) { ...JobSummary }
  }
`);
const Rename = graphql(`
  mutation RenameSearch($id: UUID!, $label: String!) { renameSearch(id: $id, label: $label) { id label updatedAt } }
`);
const Delete = graphql(`
  mutation DeleteSearch($id: UUID!) { deleteSearch(id: $id) }
`);

function why(error: unknown): string {
  return CombinedGraphQLErrors.is(error) ? error.errors.map((e) => e.message).join("; ") : "the server did not answer";
}

/** Search again, edit as new, rename and delete: what can be done with a search besides running it. */
export function SearchTools({ job, title }: { job: Pick<JobSummaryFragment, "id" | "label" | "status" | "spec">; title: string }) {
  const router = useRouter();
  const client = useApolloClient();
  const [again, starting] = useMutation(SearchAgain);
  const [rename, renaming] = useMutation(Rename);
  const [remove, deleting] = useMutation(Delete);
  const [editing, setEditing] = useState(false);
  const ended = ["SUCCEEDED", "FAILED", "CANCELLED"].includes(job.status);

  const searchAgain = async () => {
    const { moved, ...input } = searchAgainInput(job.spec, job.label ?? null);
    try {
      const { data } = await again({ variables: { input } });
      if (!data) return;
      toast.success(moved > 0 ? `Searching again, with the dates moved ${moved} day${moved === 1 ? "" : "s"} forward.` : "Searching again.");
      router.push(`/searches/${data.startSearch.id}`);
    } catch (error) {
      toast.error(`Could not search again: ${why(error)}`);
    }
  };

  return (
    <div className="row" role="group" aria-label="More for this search">
      {editing ? (
        <form
          className="row"
          onSubmit={async (e) => {
            e.preventDefault();
            const label = String(new FormData(e.currentTarget).get("label") ?? "");
            try {
              await rename({ variables: { id: job.id, label } });
              setEditing(false);
            } catch (error) {
              toast.error(`Could not rename it: ${why(error)}`);
            }
          }}
        >
          <label className="visually-hidden" htmlFor="rename">Name of this search</label>
          <input id="rename" name="label" defaultValue={job.label ?? title} maxLength={200} autoFocus />
          <button type="submit" disabled={renaming.loading}>Save name</button>
          <button type="button" className="secondary" onClick={() => setEditing(false)}>Keep it</button>
        </form>
      ) : (
        <button type="button" className="secondary" onClick={() => setEditing(true)}>Rename</button>
      )}
      <button type="button" className="secondary" disabled={starting.loading} onClick={() => void searchAgain()}>
        {starting.loading ? "Starting…" : "Search again"}
      </button>
      <Link className="button secondary" href={`/searches/new?from=${job.id}`}>Edit as new</Link>
      {ended ? (
        <button
          type="button"
          className="danger"
          disabled={deleting.loading}
          onClick={async () => {
            if (!window.confirm(`Delete “${title}” and every flight it found? This cannot be undone.`)) return;
            try {
              await remove({ variables: { id: job.id } });
              client.cache.evict({ id: client.cache.identify({ __typename: "SearchJob", id: job.id }) });
              client.cache.gc();
              toast.success("Search deleted.");
              router.push("/searches");
            } catch (error) {
              toast.error(`Could not delete it: ${why(error)}`);
            }
          }}
        >
          Delete
        </button>
      ) : null}
    </div>
  );
}
