"use client";

import { useEffect, useId, useRef } from "react";
import { toast } from "sonner";

import { utcTime } from "@/lib/format";

/** A signing secret as the API hands it out: once, after creating or rotating. */
export type ShownSecret = { endpointUrl: string; secret: string; rotated: boolean; previousExpiresAt: string | null };

/**
 * The secret in a box of its own, with a copy button. It lives only in this page's state
 * (never in Apollo's cache): a reload, or "Hide it", and it is gone for good.
 */
export function OneTimeSecret({ shown, onHide }: { shown: ShownSecret; onHide: () => void }) {
  const uid = useId();
  const box = useRef<HTMLElement>(null);
  const value = useRef<HTMLElement>(null);
  useEffect(() => {
    box.current?.focus();
  }, [shown.secret]);

  async function copy() {
    try {
      await navigator.clipboard.writeText(shown.secret);
      toast.success("Secret copied");
    } catch {
      // No clipboard (permission refused, or not a secure context): select it instead.
      const range = document.createRange();
      if (value.current) range.selectNodeContents(value.current);
      window.getSelection()?.removeAllRanges();
      window.getSelection()?.addRange(range);
      toast.info("The browser did not let this page copy: the secret is selected, copy it by hand");
    }
  }

  return (
    <section ref={box} tabIndex={-1} className="panel secret-box" aria-labelledby={`${uid}-title`} data-testid="webhook-secret-box">
      <h2 id={`${uid}-title`} style={{ marginTop: 0 }}>
        {shown.rotated ? "New signing secret" : "Signing secret"} for {shown.endpointUrl}
      </h2>
      <p>
        <strong>Copy it now: it will not be shown again.</strong> Receivers check each
        delivery&apos;s <code>webhook-signature</code> header with it (Standard Webhooks).
      </p>
      <div className="row" style={{ alignItems: "center" }}>
        <code ref={value} className="secret" data-testid="webhook-secret">{shown.secret}</code>
        <button type="button" onClick={copy}>Copy</button>
        <button type="button" className="secondary" onClick={onHide}>I have copied it</button>
      </div>
      {shown.rotated && shown.previousExpiresAt ? (
        <p className="muted">The old secret goes on signing beside this one until {utcTime(shown.previousExpiresAt)}, so receivers can switch without missing a delivery.</p>
      ) : null}
    </section>
  );
}
