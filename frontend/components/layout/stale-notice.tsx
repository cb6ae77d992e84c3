"use client";

import { CombinedGraphQLErrors } from "@apollo/client/errors";

/** A query's refresh failed: what is shown is older than the search. */
export function StaleNotice({ error }: { error: unknown }) {
  if (!error) return null;
  const why = CombinedGraphQLErrors.is(error) ? error.errors.map((e) => e.message).join("; ") : "the server did not answer";
  return (
    <p className="form-error" role="status">
      Could not refresh this ({why}); it shows what was found earlier and tries again as the search moves on.
    </p>
  );
}
