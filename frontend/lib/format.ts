// One formatter for each kind of thing the app shows. Each takes the locale to format in:
// pages get it from `useFormat()` (the browser's language, as its Accept-Language header
// said, so the server and the browser render the same text).

/** The locale used when none is known. */
export const DEFAULT_LOCALE = "en-GB";

type MoneyLike = { amount: string; currency: string; minorUnits?: number | null };

/**
 * Money from minor units and its currency, e.g. "€2,934.55", "¥100"; from the decimal
 * amount when minor units are not at hand.
 */
export function money(m: MoneyLike | null | undefined, locale: string = DEFAULT_LOCALE): string {
  if (!m) return "—";
  const value = m.minorUnits != null ? m.minorUnits / 10 ** exponent(m.currency) : Number(m.amount);
  try {
    return new Intl.NumberFormat(locale, { style: "currency", currency: m.currency }).format(value);
  } catch {
    return `${m.amount} ${m.currency}`;
  }
}

/** Minor units of `currency` as money. */
export function minorMoney(minorUnits: number, currency: string, locale: string = DEFAULT_LOCALE): string {
  return money({ amount: String(minorUnits / 10 ** exponent(currency)), currency, minorUnits }, locale);
}

/** The wall-clock parts of an ISO date or date-time, as written (its offset left aside). */
function wallClock(iso: string): Date | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}))?/.exec(iso);
  if (!m) return null;
  return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0)));
}

/**
 * A date ("2027-01-05", or the date part of a local date-time) as "Tue 5 Jan"; with the
 * year when it is not this year ("Tue 5 Jan 2027").
 */
export function day(iso: string | null | undefined, locale: string = DEFAULT_LOCALE, { weekday = true } = {}): string {
  if (!iso) return "—";
  const d = wallClock(iso);
  if (!d) return iso;
  const thisYear = d.getUTCFullYear() === new Date().getUTCFullYear();
  return new Intl.DateTimeFormat(locale, {
    timeZone: "UTC",
    weekday: weekday ? "short" : undefined,
    day: "numeric",
    month: "short",
    year: thisYear ? undefined : "numeric",
  }).format(d);
}

/** The local time of a date-time with its airport's offset, e.g. "08:30". */
export function clock(iso: string, locale: string = DEFAULT_LOCALE): string {
  const d = wallClock(iso);
  if (!d) return iso;
  return new Intl.DateTimeFormat(locale, { timeZone: "UTC", hour: "numeric", minute: "2-digit" }).format(d);
}

/** A time with its own UTC offset, shown as the local time where it happens: "Tue 5 Jan, 08:30". */
export function localTime(iso: string, locale: string = DEFAULT_LOCALE): string {
  return `${day(iso, locale)}, ${clock(iso, locale)}`;
}

/** Minutes between two date-times with offsets. */
export function minutesBetween(from: string, to: string): number {
  return Math.round((new Date(to).getTime() - new Date(from).getTime()) / 60_000);
}

/** Whole days from one date-time's local date to another's (for "+1" on arrivals). */
export function daysLater(from: string, to: string): number {
  const a = wallClock(from);
  const b = wallClock(to);
  if (!a || !b) return 0;
  return Math.round((Date.UTC(b.getUTCFullYear(), b.getUTCMonth(), b.getUTCDate()) - Date.UTC(a.getUTCFullYear(), a.getUTCMonth(), a.getUTCDate())) / 86_400_000);
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

/** Minor-unit exponent of a currency (2 unless the currency says otherwise). */
export function exponent(currency: string): number {
  if (["JPY", "KRW"].includes(currency)) return 0;
  if (["KWD", "BHD"].includes(currency)) return 3;
  return 2;
}

/**
 * What is wrong with `text` as an amount of `currency` (not a number, below zero, or
 * finer than the currency's smallest unit), or null when it is fine.
 */
export function amountProblem(text: string, currency: string): string | null {
  const value = text.trim();
  if (!/^\d+(\.\d*)?$|^\.\d+$/.test(value)) return "give the amount as a number, e.g. 450";
  const decimals = value.includes(".") ? value.split(".")[1].replace(/0+$/, "").length : 0;
  const allowed = exponent(currency);
  if (decimals > allowed) {
    return allowed === 0
      ? `${currency} has no smaller unit than 1: give a whole amount`
      : `${currency} has ${allowed} decimal places: give at most ${allowed}`;
  }
  return null;
}

export const CURRENCIES = ["EUR", "USD", "GBP", "CHF", "JPY", "SGD", "AUD", "CAD", "SEK", "NOK", "DKK", "PLN", "THB", "INR", "AED"];

/**
 * A moment (an RFC 3339 DateTime) in UTC, e.g. "2 Dec, 06:57 UTC" (with `seconds`,
 * "06:57:29"). The same text on the server and in any browser, whatever its time zone,
 * so server-rendered pages hydrate without a mismatch.
 */
export function utcTime(iso: string | null | undefined, { seconds = false, locale = DEFAULT_LOCALE } = {}): string {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const text = d.toISOString();
  return `${day(text, locale, { weekday: false })}, ${text.slice(11, seconds ? 19 : 16)} UTC`;
}

/** A count with thousands separators, e.g. "135,780". */
/** How long ago a moment was: "just now" under a minute, else "7 minutes ago", "2 hours ago". */
export function ago(iso: string, locale: string = DEFAULT_LOCALE, now: number = Date.now()): string {
  const seconds = (now - new Date(iso).getTime()) / 1000;
  if (!Number.isFinite(seconds)) return iso;
  if (seconds < 60) return "just now";
  const words = new Intl.RelativeTimeFormat(locale, { numeric: "auto" });
  if (seconds < 3600) return words.format(-Math.floor(seconds / 60), "minute");
  if (seconds < 86_400) return words.format(-Math.floor(seconds / 3600), "hour");
  return words.format(-Math.floor(seconds / 86_400), "day");
}

export function count(n: number, locale: string = DEFAULT_LOCALE): string {
  return new Intl.NumberFormat(locale).format(n);
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
