"use client";

import { useApolloClient, useSubscription } from "@apollo/client/react";
import { useRouter } from "next/navigation";
import { toast } from "sonner";

import { graphql } from "@/gql";
import { useRestartAfterError } from "@/components/search/use-live-job";
import { BookingNow } from "@/components/bookings/fragments";

const Notifications = graphql(`
  subscription Notifications {
    notifications { kind jobId importId bookingId title message at }
  }
`);

/**
 * Toasts, in any open page, when one of the user's searches (or, for admins, an import)
 * ends or one of their bookings is confirmed, fails or is cancelled (its new state goes
 * into the cache, so lists of bookings follow without polling) — and a browser notification too when the user allowed them. A search queued
 * elsewhere (another tab, another device, the API) is no news, but an open list of
 * searches fetches itself again to show it.
 */
export function NotificationListener() {
  const router = useRouter();
  const client = useApolloClient();
  const { error, restart } = useSubscription(Notifications, {
    onData: ({ data }) => {
      const note = data.data?.notifications;
      if (!note) return;
      if (note.kind === "SEARCH_QUEUED") {
        Promise.resolve(
          client.refetchQueries({
            include: "active",
            onQueryUpdated: (query) => (query.queryName === "MySearches" ? query.refetch() : false),
          }),
        ).catch(() => {});
        return;
      }
      if (note.bookingId) {
        // The booking's new state goes into the cache: every list showing it follows.
        void client.query({ query: BookingNow, variables: { id: note.bookingId }, fetchPolicy: "network-only" }).catch(() => {});
      }
      const href = note.bookingId
        ? "/bookings"
        : note.jobId
          ? `/searches/${note.jobId}`
          : note.kind === "WEBHOOK_DISABLED" ? "/admin/webhooks" : "/admin/imports";
      const show = note.kind.endsWith("SUCCEEDED") || note.kind === "BOOKING_CONFIRMED"
        ? toast.success
        : note.kind.endsWith("FAILED") || note.kind === "WEBHOOK_DISABLED" ? toast.error : toast.info;
      show(note.title, { description: note.message, action: { label: "Open", onClick: () => router.push(href) } });
      if (typeof Notification !== "undefined" && Notification.permission === "granted" && document.visibilityState !== "visible") {
        try {
          const shown = new Notification(note.title, { body: note.message, tag: note.jobId ?? note.importId ?? undefined });
          shown.onclick = () => {
            window.focus();
            router.push(href);
          };
        } catch {
          // Some browsers (Android Chrome) only allow notifications from a service worker.
        }
      }
    },
  });
  useRestartAfterError(error, restart);
  return null;
}
