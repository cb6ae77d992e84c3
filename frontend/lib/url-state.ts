"use client";

import { usePathname, useSearchParams } from "next/navigation";
import { useCallback, useMemo } from "react";

/**
 * A page's state kept in its URL query: `read` turns the query into state, `write` back.
 * A change pushes a history entry (Back undoes it) or, with `replace`, rewrites the
 * current one. Next.js follows `history.pushState`, so nothing is fetched from the server.
 */
export function useUrlState<S>(read: (params: URLSearchParams) => S, write: (state: S) => URLSearchParams) {
  const params = useSearchParams();
  const pathname = usePathname();
  const state = useMemo(() => read(new URLSearchParams(params.toString())), [params, read]);
  const set = useCallback(
    (change: Partial<S>, { replace = false } = {}) => {
      const query = write({ ...state, ...change }).toString();
      const url = query ? `${pathname}?${query}` : pathname;
      if (replace) window.history.replaceState(null, "", url);
      else window.history.pushState(null, "", url);
    },
    [pathname, state, write],
  );
  return [state, set] as const;
}
