import type { FieldPolicy, Reference } from "@apollo/client";

type KeysetPage = { pageInfo: { hasNextPage: boolean; endCursor?: string | null }; nodes: Reference[] };

/**
 * One growing list for a keyset connection read with a "more" button (`after` the last
 * cursor): a page asked for after a cursor is added at the end; a first page (a refetch,
 * a poll) replaces the head of the list and keeps the older pages loaded after it, as
 * long as its last item is among them (else it is the whole list again).
 */
export function keysetList(keyArgs: string[]): FieldPolicy<KeysetPage> {
  return {
    keyArgs,
    merge(existing, incoming, { args, readField }) {
      if (!existing) return incoming;
      const id = (node: Reference) => readField<string>("id", node);
      if (args?.after) {
        const seen = new Set(existing.nodes.map(id));
        return { ...incoming, nodes: [...existing.nodes, ...incoming.nodes.filter((n) => !seen.has(id(n)))] };
      }
      const last = incoming.nodes.at(-1);
      const at = last ? existing.nodes.findIndex((n) => id(n) === id(last)) : -1;
      if (at < 0 || !incoming.pageInfo.hasNextPage) return incoming;
      return { ...incoming, nodes: [...incoming.nodes, ...existing.nodes.slice(at + 1)], pageInfo: existing.pageInfo };
    },
  };
}
