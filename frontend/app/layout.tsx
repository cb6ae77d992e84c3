import type { Metadata, Viewport } from "next";
import Link from "next/link";
import type { ReactNode } from "react";

import { LogoutButton } from "@/components/layout/logout-button";
import { NotificationsToggle } from "@/components/layout/notifications-toggle";
import { Providers } from "@/components/layout/providers";
import { SiteMenu } from "@/components/layout/site-menu";
import { publicWsUrl } from "@/lib/config";
import { requestLocale } from "@/lib/request-locale";
import { viewer } from "@/lib/viewer";

import "./globals.css";

export const metadata: Metadata = {
  title: { default: "fast-flights", template: "%s · fast-flights" },
  description: "Flight searches that run for hours: every date, every airport, the cheapest fare.",
};

export const viewport: Viewport = { width: "device-width", initialScale: 1 };

export default async function RootLayout({ children }: { children: ReactNode }) {
  const [me, locale] = await Promise.all([viewer(), requestLocale()]);
  return (
    <html lang={locale}>
      <body>
        <Providers wsUrl={publicWsUrl()} signedIn={me !== null} locale={locale}>
        <a className="skip-link" href="#content">Skip to content</a>
        <header className="site">
          <Link className="brand" href="/">fast-flights</Link>
          <SiteMenu>
          {me ? (
            <nav aria-label="Main">
              <Link href="/searches">My searches</Link>
              <Link href="/searches/new">New search</Link>
              <Link href="/bookings">My bookings</Link>
              {me.role === "ADMIN" ? <Link href="/admin">Admin</Link> : null}
            </nav>
          ) : null}
          <div className="who">
            {me ? (
              <>
                <NotificationsToggle />
                <span>{me.email}</span>
                <LogoutButton />
              </>
            ) : (
              <>
                <Link href="/login">Log in</Link>
                <Link className="button" href="/signup">Sign up</Link>
              </>
            )}
          </div>
          </SiteMenu>
        </header>
        <main id="content">{children}</main>
        </Providers>
      </body>
    </html>
  );
}
