/** A GraphQL error as the API sends it: a message and `extensions.code` (and `field`). */
export type ApiError = {
  message: string;
  extensions?: { code?: string; field?: string };
};

/** Messages of errors that name an input field, by field; the others under "". */
export function fieldErrors(errors: readonly ApiError[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of errors ?? []) {
    const field = e.extensions?.field ?? "";
    const message = field && e.message.startsWith(`${field}: `) ? e.message.slice(field.length + 2) : e.message;
    out[field] = out[field] ? `${out[field]} ${message}` : message;
  }
  return out;
}
