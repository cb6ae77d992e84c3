"use client";

import { ApolloProvider } from "@apollo/client/react";
import { useState, type ReactNode } from "react";
import { Toaster } from "sonner";

import { makeClient } from "@/lib/apollo";
import { LocaleProvider } from "@/lib/locale";

import { LiveBanner } from "./live-banner";
import { NotificationListener } from "./notification-listener";

/** The app's client-side context: Apollo's cache, toasts, and live notifications. */
export function Providers({ wsUrl, signedIn, locale, children }: { wsUrl: string; signedIn: boolean; locale: string; children: ReactNode }) {
  const [client] = useState(() => makeClient(wsUrl));
  return (
    <LocaleProvider locale={locale}>
    <ApolloProvider client={client}>
      {children}
      {signedIn ? (
        <>
          <NotificationListener />
          <LiveBanner />
        </>
      ) : null}
      <Toaster position="bottom-right" richColors closeButton duration={6000} />
    </ApolloProvider>
    </LocaleProvider>
  );
}
