import type { Metadata } from "next";

import { InventoryBrowser } from "@/components/admin/inventory-browser";

export const metadata: Metadata = { title: "Inventory" };

export default function InventoryPage() {
  return (
    <>
      <h1>Flight catalogue</h1>
      <InventoryBrowser />
    </>
  );
}
