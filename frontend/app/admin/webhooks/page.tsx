import type { Metadata } from "next";

import { WebhookEndpoints } from "@/components/admin/documents";
import { WebhooksPanel } from "@/components/admin/webhooks-panel";
import { serverQuery } from "@/lib/server";

export const metadata: Metadata = { title: "Webhooks" };

export default async function WebhooksPage() {
  const data = await serverQuery(WebhookEndpoints, {});
  return (
    <>
      <h1>Webhooks</h1>
      <p className="muted">
        Events (bookings, finished searches and imports) are sent to these URLs as signed POST
        requests, each with a <code>webhook-id</code> that stays the same on every retry.
        Failed deliveries are tried again with growing pauses; an endpoint that fails for too
        long is switched off.
      </p>
      <WebhooksPanel initial={data} />
    </>
  );
}
