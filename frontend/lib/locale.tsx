"use client";

import { createContext, useContext, useMemo, type ReactNode } from "react";

import * as format from "./format";

const LocaleContext = createContext(format.DEFAULT_LOCALE);

/** The locale every page formats in: the browser's, as the server read it from the request. */
export function LocaleProvider({ locale, children }: { locale: string; children: ReactNode }) {
  return <LocaleContext.Provider value={locale}>{children}</LocaleContext.Provider>;
}

/** The app's formatters, bound to the page's locale. */
export function useFormat() {
  const locale = useContext(LocaleContext);
  return useMemo(
    () => ({
      locale,
      money: (m: Parameters<typeof format.money>[0]) => format.money(m, locale),
      minorMoney: (minor: number, currency: string) => format.minorMoney(minor, currency, locale),
      count: (n: number) => format.count(n, locale),
      day: (iso: string | null | undefined, options?: { weekday?: boolean }) => format.day(iso, locale, options),
      clock: (iso: string) => format.clock(iso, locale),
      localTime: (iso: string) => format.localTime(iso, locale),
      utcTime: (iso: string | null | undefined, options?: { seconds?: boolean }) => format.utcTime(iso, { ...options, locale }),
      ago: (iso: string) => format.ago(iso, locale),
    }),
    [locale],
  );
}
