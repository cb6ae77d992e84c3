"use client";

import type { OperationVariables, TypedDocumentNode } from "@apollo/client";
import { useApolloClient, useQuery } from "@apollo/client/react";
import { useEffect, useRef, useState } from "react";

/**
 * A query whose first answer came with the server-rendered page: that answer goes into
 * Apollo's cache, so the page renders at once and later updates (subscriptions, mutations)
 * land on the same cached entities.
 */
export function useSeededQuery<T, V extends OperationVariables>(
  document: TypedDocumentNode<T, V>,
  variables: V,
  initial: T | null,
) {
  useSeed(document, variables, initial);
  return useQuery(document, { variables, fetchPolicy: "cache-first" });
}

/**
 * Writes a server-rendered answer into the cache, once, before anything reads it (none
 * when the server did not read it: the query then asks the API).
 */
export function useSeed<T, V extends OperationVariables>(document: TypedDocumentNode<T, V>, variables: V, data: T | null) {
  const client = useApolloClient();
  useState(() => {
    if (data !== null) client.writeQuery({ query: document, variables, data });
    return true;
  });
}

/**
 * Calls `refetch` when `trigger` changes, at most once per `ms` (the last change always
 * counts). `seededWith` is the trigger's value when the data was fetched: a component
 * mounted later (a tab opened after the search moved on) refetches at once.
 */
export function useThrottledRefetch(trigger: unknown, refetch: () => unknown, ms: number, seededWith?: unknown) {
  const last = useRef(0);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      if (seededWith === undefined || seededWith === trigger) return;
    }
    const wait = Math.max(0, last.current + ms - Date.now());
    if (timer.current) clearTimeout(timer.current);
    timer.current = setTimeout(() => {
      last.current = Date.now();
      // A failed refetch shows as the query's `error`; the next change tries again.
      Promise.resolve(refetch()).catch(() => {});
    }, wait);
    return () => {
      if (timer.current) clearTimeout(timer.current);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [trigger]);
}
