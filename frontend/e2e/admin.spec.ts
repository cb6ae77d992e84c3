import { readFileSync, writeFileSync } from "node:fs";

import { expect, type Page, test } from "@playwright/test";

import { ADMIN_EMAIL, ADMIN_PASSWORD, isoDay, logIn, pickPlace, shot, signUp, uniqueEmail, watchConsole } from "./helpers";

/** A small catalogue some weeks out, with one row the import must reject. */
function catalogue(first: number, out: string, back: string, bad: string): string {
  const day = (n: number) => isoDay(first + n);
  return [
    "flight_number,airline,origin,destination,departure,arrival,cabin,price,currency,seats_total,seats_available",
    `${out},XQ,LHR,JFK,${day(0)}T08:30,${day(0)}T11:25,ECONOMY,123.45,GBP,180,90`,
    `${out},XQ,LHR,JFK,${day(1)}T08:30,${day(1)}T11:25,ECONOMY,111.00,GBP,180,90`,
    `${back},XQ,JFK,LHR,${day(8)}T18:30,${day(9)}T06:35,ECONOMY,99.00,GBP,180,90`,
    `${bad},XQ,LHR,ZZZ,${day(2)}T08:30,${day(2)}T11:25,ECONOMY,100.00,GBP,180,90`,
  ].join("\n");
}

/** Flips a provider's switch and waits until the server has answered the change. */
async function toggleAndWait(page: Page, flip: () => Promise<void>) {
  const answered = page.waitForResponse(
    (r) => r.url().endsWith("/api/graphql") && (r.request().postData() ?? "").includes("SetProviderEnabled"),
  );
  await flip();
  expect((await answered).ok()).toBe(true);
}

test("an admin uploads flights, sees the import and its rejected row, and a search finds them", async ({ page }, info) => {
  const problems = watchConsole(page);
  // The catalogue's first day (some weeks out) and flight numbers differ from run to run, so
  // that a repeated run (`--repeat-each`, one database) meets none of an earlier run's flights.
  const seconds = Math.floor(Date.now() / 1000);
  const FIRST = 50 + (seconds % 300);
  const n = 1000 + 3 * (seconds % 2000);
  const [OUT, BACK, BAD] = [`XQ${n}`, `XQ${n + 1}`, `XQ${n + 2}`];
  await logIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
  await page.getByRole("link", { name: "Admin" }).click();
  await expect(page).toHaveURL(/\/admin\/imports$/);
  const file = info.outputPath("catalogue.csv");
  writeFileSync(file, catalogue(FIRST, OUT, BACK, BAD));
  await page.getByLabel("CSV file").setInputFiles(file);
  await page.getByRole("button", { name: "Upload" }).click();
  const row = page.locator("tr", { hasText: "catalogue.csv" }).first();
  // Imported, but one row was rejected: said as a warning.
  await expect(row.getByTestId("import-status")).toHaveText("SUCCEEDED, 1 rejected");
  await expect(row.getByTestId("rows-imported")).toHaveText("3");
  await row.getByRole("button", { name: /1 — show/ }).click();
  // Line 5 of the file (the header is line 1) is the one with the unknown airport.
  const rejected = page.getByTestId("rejections").locator("tbody tr");
  await expect(rejected).toHaveCount(1);
  await expect(rejected.locator("td").nth(0)).toHaveText("5");
  await expect(rejected.locator("td").nth(1)).toContainText("unknown airport `ZZZ`");
  // The row itself, the file named, and all of it as a CSV to fix and upload again.
  await expect(rejected.locator("td").nth(2)).toContainText(`${BAD},XQ,LHR,ZZZ,`);
  await expect(page.getByRole("heading", { name: /^Rejected rows of catalogue\.csv/ })).toBeVisible();
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download as CSV" }).click()]);
  expect(download.suggestedFilename()).toBe("catalogue - rejected rows.csv");
  const csv = readFileSync(await download.path(), "utf8").split("\r\n");
  expect(csv[0]).toBe("line,problems,row");
  expect(csv[1]).toMatch(new RegExp(`^5,destination: unknown airport \`ZZZ\`,"${BAD},XQ,LHR,ZZZ,`));
  await shot(page, "admin-imports");

  // The catalogue shows them; one can be edited.
  await page.getByRole("link", { name: "Inventory" }).click();
  await page.getByLabel("Flight", { exact: true }).fill(BACK);
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page.getByTestId("inventory-row")).toHaveCount(1);
  await page.getByRole("button", { name: new RegExp(`^Edit ${BACK} on \\d{4}-\\d{2}-\\d{2}$`) }).click();
  await page.getByLabel("Seats left").fill("50");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByTestId("inventory-row").first()).toContainText("50 / 180");
  // A blank price is not a free seat.
  await page.getByRole("button", { name: new RegExp(`^Edit ${BACK} on \\d{4}-\\d{2}-\\d{2}$`) }).click();
  await page.getByLabel("Price per seat").fill("");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByText("give a price per seat")).toBeVisible();
  // Moving the departure moves the flight: still one of it, at the new time.
  await page.getByLabel("Price per seat").fill("99");
  await page.getByLabel("Departure (local)").fill(`${isoDay(FIRST + 8)}T19:30`);
  await page.getByLabel("Arrival (local)").fill(`${isoDay(FIRST + 9)}T07:35`);
  await page.getByRole("button", { name: "Save" }).click();
  // Once the list shows the new time it is the list after the save: one of it, not two.
  await expect(page.getByTestId("inventory-row").filter({ hasText: "19:30" })).toHaveCount(1);
  await expect(page.getByTestId("inventory-row")).toHaveCount(1);
  await shot(page, "admin-inventory");

  await page.getByRole("link", { name: "Providers" }).click();
  const simulated = page.getByRole("switch", { name: "simulated enabled" });
  await expect(page.getByRole("switch", { name: "inventory enabled" })).toBeChecked();
  await toggleAndWait(page, () => simulated.uncheck());
  await page.reload();
  await expect(simulated).not.toBeChecked();
  await shot(page, "admin-providers");
  // Off for new searches: the form shows it off.
  await page.goto("/searches/new");
  await expect(page.getByRole("checkbox", { name: /simulated/ })).toBeDisabled();
  await page.goto("/admin/providers");
  await toggleAndWait(page, () => simulated.check());
  await page.reload();
  await expect(simulated).toBeChecked();

  // A search over the catalogue finds the imported round trip.
  await page.goto("/searches/new");
  await pickPlace(page, "origins", "Heathrow", "LHR");
  await pickPlace(page, "destinations", "Kennedy", "JFK");
  await page.getByLabel("Earliest departure").fill(isoDay(FIRST));
  await page.getByLabel("Latest departure").fill(isoDay(FIRST + 1));
  await page.getByLabel("Nights, at least").fill("7");
  await page.getByLabel("Nights, at most").fill("8");
  await page.getByLabel("Currency").selectOption("GBP");
  await page.getByRole("checkbox", { name: /simulated/ }).uncheck();
  await expect(page.getByRole("checkbox", { name: /inventory/ })).toBeChecked();
  await page.getByRole("button", { name: "Search", exact: true }).click();
  await expect(page.getByTestId("job-status")).toHaveText("SUCCEEDED", { timeout: 60_000 });
  const offers = page.getByTestId("offer-row");
  await expect(offers).toHaveCount(2);
  await expect(offers.first()).toContainText(`${OUT} · back ${BACK}`);
  await expect(offers.first()).toContainText("our own flight catalogue");
  await expect(offers.first().getByTestId("price")).toHaveText("£210.00");
  await shot(page, "search-inventory");

  await page.goto("/admin/searches");
  await expect(page.getByRole("link", { name: "LHR → JFK" }).first()).toBeVisible();
  expect(problems).toEqual([]);
});

test("an admin finds accounts, changes a role, and sees one account's searches", async ({ browser }) => {
  const traveller = await browser.newPage();
  const email = uniqueEmail("role");
  await signUp(traveller, email);
  await traveller.request.post("/api/graphql", {
    data: {
      query: "mutation($i: SearchInput!) { startSearch(input: $i) { id } }",
      variables: { i: { origins: ["LHR"], destinations: ["JFK"], departureFrom: isoDay(30), departureTo: isoDay(30), providers: ["simulated"] } },
    },
  });
  const page = await browser.newPage();
  const problems = watchConsole(page);
  await logIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
  await page.goto("/admin/users");
  await page.getByLabel("Email contains").fill(email.slice(0, 12).toUpperCase());
  await page.getByRole("button", { name: "Find" }).click();
  await expect(page).toHaveURL(/q=/);
  const row = page.getByTestId("user-row").filter({ hasText: email });
  await expect(row).toHaveCount(1);
  page.once("dialog", (d) => void d.accept());
  await row.getByLabel(`Role of ${email}`).selectOption("ADMIN");
  await expect(page.getByText(`${email} is now ADMIN.`)).toBeVisible();
  await page.reload();
  await expect(page.getByTestId("user-row").filter({ hasText: email }).getByLabel(`Role of ${email}`)).toHaveValue("ADMIN");
  await page.getByTestId("user-row").filter({ hasText: email }).getByRole("link", { name: "their searches" }).click();
  await expect(page).toHaveURL(/\/admin\/searches\?owner=/);
  await expect(page.locator("[data-job-id]")).toHaveCount(1);
  await page.getByLabel("Status").selectOption("RUNNING");
  await page.getByRole("button", { name: "Show" }).click();
  await expect(page).toHaveURL(/status=RUNNING/);
  await expect(page.getByText("No searches match.").or(page.locator("[data-job-id]"))).toBeVisible();
  expect(problems).toEqual([]);
});
