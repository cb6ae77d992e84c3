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
