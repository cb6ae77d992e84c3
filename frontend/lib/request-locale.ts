import "server-only";

import { headers } from "next/headers";

import { DEFAULT_LOCALE } from "./format";

/**
 * The first language of the request's Accept-Language that this server can format in
 * (e.g. "de-DE"), else the default. Pages render with it on the server and in the browser.
 */
export async function requestLocale(): Promise<string> {
  const accepted = (await headers()).get("accept-language") ?? "";
  for (const part of accepted.split(",")) {
    const tag = part.split(";")[0]?.trim();
    if (!tag || tag === "*") continue;
    try {
      const [supported] = Intl.DateTimeFormat.supportedLocalesOf(tag);
      if (supported) return supported;
    } catch {
      // A malformed tag: try the next one.
    }
  }
  return DEFAULT_LOCALE;
}
