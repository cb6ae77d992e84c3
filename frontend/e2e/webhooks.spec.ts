import { createHmac } from "node:crypto";
import { writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

import { expect, test } from "@playwright/test";

import { ADMIN_EMAIL, ADMIN_PASSWORD, logIn, shot, watchConsole } from "./helpers";

type Received = { headers: IncomingHttpHeaders; body: string };

/** A receiver on a free port of 127.0.0.1 that answers 200 and keeps every request. */
async function startReceiver() {
  const received: Received[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks).toString("utf8") });
      response.writeHead(200, { "content-type": "text/plain" });
      response.end("ok, received");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/${Date.now()}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Whether a request carries a Standard Webhooks signature made with `secret`. */
function signedWith(request: Received, secret: string): boolean {
  const id = String(request.headers["webhook-id"]);
  const timestamp = String(request.headers["webhook-timestamp"]);
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const expected = createHmac("sha256", key).update(`${id}.${timestamp}.${request.body}`).digest("base64");
  return String(request.headers["webhook-signature"]).split(" ").includes(`v1,${expected}`);
}

test("an admin adds a webhook endpoint, sees its secret once, watches a delivery, redelivers it and switches it off", async ({ page }, info) => {
  const problems = watchConsole(page);
  const receiver = await startReceiver();
  try {
    await logIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
    await page.getByRole("link", { name: "Admin" }).click();
    await page.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "Webhooks" }).click();
    await expect(page).toHaveURL(/\/admin\/webhooks$/);
    await expect(page.getByRole("heading", { name: "Webhooks", level: 1 })).toBeVisible();

    // The API's objection shows beside the field it names, in words.
    const form = page.getByRole("form", { name: "Add an endpoint" });
    const url = form.getByLabel("URL");
    await url.fill("ftp://127.0.0.1/hooks");
    await form.getByLabel("import.finished").check();
    await form.getByRole("button", { name: "Add endpoint" }).click();
    await expect(url).toHaveAttribute("aria-invalid", "true");
    await expect(url).toHaveAccessibleDescription(/The URL must start with https:\/\/ .*not ftp:\/\//);

    // Created: the secret shows once, in its box.
    await url.fill(receiver.url);
    await form.getByLabel("Description").fill("e2e receiver");
    await form.getByRole("button", { name: "Add endpoint" }).click();
    const box = page.getByTestId("webhook-secret-box");
    await expect(box).toBeVisible();
    await expect(box).toContainText("it will not be shown again");
    const secret = (await box.getByTestId("webhook-secret").textContent()) ?? "";
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/=]{20,}$/);
    await box.getByRole("button", { name: "Copy" }).click();
    await expect(url).toHaveValue("");
    const row = page.getByTestId("endpoint-row").filter({ hasText: receiver.url });
    await expect(row).toHaveCount(1);
    await expect(row.getByTestId("endpoint-state")).toHaveText("enabled");
    await expect(row).toContainText("import.finished");
    await shot(page, "admin-webhooks-secret");

    // …and never again.
    await page.reload();
    await expect(row).toHaveCount(1);
    await expect(page.getByTestId("webhook-secret-box")).toHaveCount(0);
    await expect(page.getByText(secret)).toHaveCount(0);

    // An import (only the header line) writes import.finished.
    await page.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "Imports" }).click();
    const file = info.outputPath(`webhook-${Date.now()}.csv`);
    writeFileSync(file, "flight_number,airline,origin,destination,departure,arrival,cabin,price,currency,seats_total,seats_available\n");
    await page.getByLabel("CSV file").setInputFiles(file);
    await page.getByRole("button", { name: "Upload" }).click();
    const upload = page.locator("tr", { hasText: file.split("/").pop() ?? "" }).first();
    await expect(upload.getByTestId("import-status")).toHaveText(/SUCCEEDED|FAILED/);

    // The receiver got it, signed with the secret shown; the page shows it delivered.
    await expect.poll(() => receiver.received.length, { timeout: 30_000 }).toBe(1);
    const first = receiver.received[0];
    expect(JSON.parse(first.body).type).toBe("import.finished");
    expect(signedWith(first, secret)).toBe(true);
    const webhookId = String(first.headers["webhook-id"]);

    await page.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "Webhooks" }).click();
    await page.getByRole("button", { name: `Deliveries to ${receiver.url}` }).click();
    const detail = page.getByTestId("endpoint-detail");
    const delivery = detail.getByTestId("delivery-row").filter({ hasText: "import.finished" });
    await expect(delivery).toHaveCount(1);
    await expect(delivery.getByTestId("delivery-status")).toHaveText("SUCCEEDED");
    await expect(delivery.getByTestId("delivery-attempts")).toHaveText("1");
    await expect(delivery.getByTestId("delivery-last-code")).toHaveText("HTTP 200");
    await delivery.getByRole("button", { name: /^Attempts of import\.finished/ }).click();
    const attempts = detail.getByTestId("attempts").getByTestId("attempt-row");
    await expect(attempts).toHaveCount(1);
    await expect(attempts.first().getByTestId("attempt-status")).toHaveText("200");
    await expect(attempts.first()).toContainText("ok, received");
    await expect(attempts.first()).toContainText(/\d+ ms/);
    await shot(page, "admin-webhooks-deliveries");

    // Redelivered: the same webhook-id again, a second attempt in the page.
    await delivery.getByRole("button", { name: /^Redeliver import\.finished/ }).click();
    await expect.poll(() => receiver.received.length, { timeout: 30_000 }).toBe(2);
    expect(receiver.received[1].headers["webhook-id"]).toBe(webhookId);
    await expect(delivery.getByTestId("delivery-attempts")).toHaveText("2");
    await expect(delivery.getByTestId("delivery-status")).toHaveText("SUCCEEDED");
    await expect(attempts).toHaveCount(2);

    // The status filter.
    await detail.getByLabel("Status").selectOption("FAILED");
    await expect(detail.getByTestId("delivery-row")).toHaveCount(0);
    await expect(detail).toContainText("No deliveries in this state.");
    await detail.getByLabel("Status").selectOption("SUCCEEDED");
    await expect(detail.getByTestId("delivery-row")).toHaveCount(1);

    // Rotated: a new secret, once; deliveries are signed with it from now on.
    page.once("dialog", (d) => void d.accept());
    await detail.getByRole("button", { name: "Rotate secret" }).click();
    await expect(box).toContainText("New signing secret");
    const rotated = (await box.getByTestId("webhook-secret").textContent()) ?? "";
    expect(rotated).toMatch(/^whsec_/);
    expect(rotated).not.toBe(secret);
    await delivery.getByRole("button", { name: /^Redeliver import\.finished/ }).click();
    await expect.poll(() => receiver.received.length, { timeout: 30_000 }).toBe(3);
    expect(signedWith(receiver.received[2], rotated)).toBe(true);
    await box.getByRole("button", { name: "I have copied it" }).click();
    await expect(box).toHaveCount(0);

    // Switched off: marked disabled, and so after a reload.
    await row.getByRole("switch", { name: `${receiver.url} enabled` }).uncheck();
    await expect(row.getByTestId("endpoint-state")).toHaveText("disabled");
    await expect(row.getByTestId("disabled-reason")).toContainText("turned off by an admin");
    await page.reload();
    await expect(row.getByTestId("endpoint-state")).toHaveText("disabled");
    await expect(row.getByRole("switch", { name: `${receiver.url} enabled` })).not.toBeChecked();
    await shot(page, "admin-webhooks-disabled");

    // Deleted, after a confirmation.
    await page.getByRole("button", { name: `Deliveries to ${receiver.url}` }).click();
    page.once("dialog", (d) => void d.accept());
    await page.getByTestId("endpoint-detail").getByRole("button", { name: "Delete" }).click();
    await expect(row).toHaveCount(0);
    await page.reload();
    await expect(row).toHaveCount(0);
    expect(problems).toEqual([]);
  } finally {
    await receiver.close();
  }
});
