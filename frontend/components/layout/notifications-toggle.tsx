"use client";

import { useEffect, useState } from "react";

/** Asks for permission to show browser notifications when a search ends. */
export function NotificationsToggle() {
  const [permission, setPermission] = useState<NotificationPermission | "unsupported" | null>(null);
  useEffect(() => {
    setPermission(typeof Notification === "undefined" ? "unsupported" : Notification.permission);
  }, []);
  if (permission !== "default") return null;
  return (
    <button
      type="button"
      className="link-button"
      onClick={() => {
        Notification.requestPermission().then(setPermission, () => setPermission("denied"));
      }}
    >
      Notify me when searches end
    </button>
  );
}
