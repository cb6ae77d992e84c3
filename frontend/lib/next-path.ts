/**
 * Where to go after logging in: a path on this site, never another origin ("//evil",
 * "/\\evil", "https://…" and anything not starting with one "/" fall back to My searches).
 */
export function safeNext(next: string | null | undefined): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return "/searches";
  if (/[\u0000-\u001f]/.test(next)) return "/searches";
  // The log-in and sign-up pages themselves would only loop.
  if (/^\/(login|signup)(\/|\?|$)/.test(next)) return "/searches";
  return next;
}

/** The log-in page, coming back to `path` afterwards. */
export function loginUrl(path: string | null | undefined, extra?: Record<string, string>): string {
  const params = new URLSearchParams(extra);
  const next = safeNext(path);
  if (next !== "/searches") params.set("next", next);
  const query = params.toString();
  return query ? `/login?${query}` : "/login";
}
