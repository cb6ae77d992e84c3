/** Money as the API gives it: a decimal amount and an ISO currency. */
export function money(m: { amount: string; currency: string } | null | undefined): string {
  if (!m) return "—";
  const value = Number(m.amount);
  try {
    return new Intl.NumberFormat("en", { style: "currency", currency: m.currency }).format(value);
  } catch {
    return `${m.amount} ${m.currency}`;
  }
}

export function duration(minutes: number): string {
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return h ? `${h} h ${m.toString().padStart(2, "0")}` : `${m} min`;
}

export function eta(seconds: number | null | undefined): string {
  if (seconds == null) return "—";
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  const h = Math.floor(seconds / 3600);
  return `${h} h ${Math.round((seconds % 3600) / 60)} min`;
}

/** A time with its own UTC offset, shown as the local time where it happens. */
export function localTime(iso: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(iso);
  return m ? `${m[3]}/${m[2]} ${m[4]}:${m[5]}` : iso;
}

export function shortDate(iso: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso);
  return m ? `${m[3]}/${m[2]}` : iso;
}

/** Minor-unit exponent of a currency (2 unless the currency says otherwise). */
export function exponent(currency: string): number {
  if (["JPY", "KRW"].includes(currency)) return 0;
  if (["KWD", "BHD"].includes(currency)) return 3;
  return 2;
}

export const CURRENCIES = ["EUR", "USD", "GBP", "CHF", "JPY", "SGD", "AUD", "CAD", "SEK", "NOK", "DKK", "PLN", "THB", "INR", "AED"];

/**
 * A moment (an RFC 3339 DateTime) in UTC, e.g. "2026-12-02 06:57 UTC" (with `seconds`,
 * "06:57:29"). The same text on the server and in any browser, whatever its time zone,
 * so server-rendered pages hydrate without a mismatch.
 */
export function utcTime(iso: string | null | undefined, { seconds = false } = {}): string {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const text = d.toISOString();
  return `${text.slice(0, 10)} ${text.slice(11, seconds ? 19 : 16)} UTC`;
}

/** A count with thousands separators, e.g. "135,780". */
export function count(n: number): string {
  return new Intl.NumberFormat("en").format(n);
}

/** A rough duration in words, e.g. "about 4 h 10 min", "under a minute". */
export function roughly(seconds: number): string {
  if (seconds < 60) return "under a minute";
  if (seconds < 3600) return `about ${Math.round(seconds / 60)} min`;
  if (seconds < 86_400 * 2) {
    const h = Math.floor(seconds / 3600);
    const m = Math.round((seconds % 3600) / 60);
    return m ? `about ${h} h ${m} min` : `about ${h} h`;
  }
  return `about ${Math.round(seconds / 86_400)} days`;
}
