"use client";

import { usePathname } from "next/navigation";
import { useEffect, useState, type ReactNode } from "react";

/** The header's links: in a row on wide screens, behind a Menu button on a phone. */
export function SiteMenu({ children }: { children: ReactNode }) {
  const [open, setOpen] = useState(false);
  const pathname = usePathname();
  useEffect(() => setOpen(false), [pathname]);
  return (
    <>
      <button type="button" className="menu-button secondary" aria-expanded={open} aria-controls="site-menu" onClick={() => setOpen(!open)}>
        Menu
      </button>
      <div id="site-menu" className={`site-menu${open ? " open" : ""}`}>{children}</div>
    </>
  );
}
