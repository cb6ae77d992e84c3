"use client";

import { useEffect, useState, useSyncExternalStore } from "react";

import { live } from "@/lib/apollo";

/**
 * Says so when live updates stop (the API restarting, the network gone) and the socket is
 * trying to come back; quiet for the first seconds, so a quick reconnect shows nothing.
 */
export function LiveBanner({ after = 2000 }: { after?: number }) {
  const state = useSyncExternalStore(live.subscribe, live.get, () => "idle" as const);
  const [shown, setShown] = useState(false);
  useEffect(() => {
    if (state !== "down") {
      setShown(false);
      return;
    }
    const timer = setTimeout(() => setShown(true), after);
    return () => clearTimeout(timer);
  }, [state, after]);
  if (!shown) return null;
  return (
    <div className="live-banner" role="status" data-testid="live-banner">
      Live updates lost: reconnecting… What you see may be out of date until then.
    </div>
  );
}
