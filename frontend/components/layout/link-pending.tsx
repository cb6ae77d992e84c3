"use client";

import { useLinkStatus } from "next/link";

/**
 * Inside a Link: "opening…" while the page it leads to is being rendered, so a click on a
 * big search shows at once that something happens. (The search page has no loading.tsx:
 * a streamed page could no longer answer 404 for a search that is not the caller's.)
 */
export function LinkPending({ label = "opening…" }: { label?: string }) {
  const { pending } = useLinkStatus();
  return pending ? <span className="muted pending" aria-live="polite"> {label}</span> : null;
}
