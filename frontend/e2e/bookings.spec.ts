import { expect, type Page, test } from "@playwright/test";

import { ADMIN_EMAIL, ADMIN_PASSWORD, finishedSearch, gql, isoDay, logIn, shot, signUp, uniqueEmail, watchConsole } from "./helpers";

async function fillPassenger(page: Page, given: string, family: string) {
  const dialog = page.getByRole("dialog");
  await dialog.getByLabel("Given name").fill(given);
  await dialog.getByLabel("Family name").fill(family);
}

/** Holds the app's BookFlight requests back for a moment, so what shows before the answer can be seen. */
async function slowBookings(page: Page, ms: number) {
  await page.route("**/api/graphql", async (route) => {
    if ((route.request().postData() ?? "").includes("mutation BookFlight")) {
      await new Promise((r) => setTimeout(r, ms));
    }
    await route.continue();
  });
}

test("a catalogue flight: booked at once, the last seat taken elsewhere is rolled back with a message, cancelled", async ({ browser }) => {
  // The admin puts a flight with one seat left in the catalogue.
  const admin = await browser.newPage();
  await logIn(admin, ADMIN_EMAIL, ADMIN_PASSWORD);
  const seconds = Math.floor(Date.now() / 1000);
  const day = isoDay(60 + (seconds % 200));
  const number = `XB${1000 + (seconds % 8000)}`;
  await gql(admin, "mutation($i: InventoryFlightInput!) { upsertInventoryFlight(input: $i) { id } }", {
    i: {
      flightNumber: number, airline: "XB", origin: "LHR", destination: "JFK",
      departure: `${day}T08:30`, arrival: `${day}T11:25`,
      price: 12345, currency: "GBP", seatsTotal: 1, seatsAvailable: 1,
    },
  });
  const search = { origins: ["LHR"], destinations: ["JFK"], departureFrom: day, departureTo: day, currency: "GBP", providers: ["inventory"] };

  // Two travellers find it.
  const first = await browser.newPage();
  const problems = watchConsole(first);
  await signUp(first, uniqueEmail("booker"));
  await finishedSearch(first, search);
  const second = await browser.newPage();
  await signUp(second, uniqueEmail("late"));
  await finishedSearch(second, search);

  // The first books it: shown at once (booking…), then confirmed.
  await slowBookings(first, 1500);
  await first.getByTestId("offer-row").first().getByRole("button", { name: "Book" }).click();
  await fillPassenger(first, "Ada", "Lovelace");
  await first.getByRole("button", { name: /^Book for £123\.45$/ }).click();
  const mine = first.getByTestId("booking-row");
  await expect(mine.getByTestId("booking-status")).toHaveText("booking…");
  await expect(mine.getByTestId("booking-status")).toHaveText("confirmed");
  await expect(mine).toContainText("ref. FF-");
  await shot(first, "booking-confirmed");

  // The second was too late: the booking shows, then goes, with a reason a person reads.
  await slowBookings(second, 1500);
  await second.getByTestId("offer-row").first().getByRole("button", { name: "Book" }).click();
  await fillPassenger(second, "Charles", "Babbage");
  await second.getByRole("button", { name: /^Book for/ }).click();
  await expect(second.getByTestId("booking-status")).toHaveText("booking…");
  await expect(second.getByText("Sorry — this flight just sold out. Nothing was booked.")).toBeVisible();
  await expect(second.getByTestId("booking-row")).toHaveCount(0);

  // My bookings lists it; cancelling is optimistic and gives the seat back.
  await first.getByRole("link", { name: "My bookings" }).click();
  await expect(first).toHaveURL(/\/bookings$/);
  const row = first.getByTestId("booking-row").filter({ hasText: number });
  await expect(row.getByTestId("booking-status")).toHaveText("confirmed");
  first.once("dialog", (d) => void d.accept());
  // The list shows "cancelled" before the server answers; a reload before the answer would
  // abort the request, so the reload waits for it.
  const answered = first.waitForResponse((r) => (r.request().postData() ?? "").includes("mutation CancelBooking"));
  await row.getByRole("button", { name: "Cancel booking" }).click();
  await expect(row.getByTestId("booking-status")).toHaveText("cancelled");
  expect((await answered).ok()).toBe(true);
  await first.reload();
  await expect(first.getByTestId("booking-row").filter({ hasText: number }).getByTestId("booking-status")).toHaveText("cancelled");
  const seats = await gql(admin, "query($f: InventoryFilter) { inventory(filter: $f) { nodes { flightNumber seatsAvailable } } }", {
    f: { flightNumber: number },
  });
  expect(seats.inventory.nodes).toEqual([{ flightNumber: number, seatsAvailable: 1 }]);

  // The admin sees both sides: the booking in the list, the day's figures in analytics.
  await admin.goto("/admin/bookings");
  await expect(admin.getByTestId("booking-row").filter({ hasText: number })).toHaveCount(1);
  await admin.goto("/admin/analytics");
  await expect(async () => {
    await admin.reload();
    await expect(admin.getByTestId("stats-row").filter({ hasText: "LHR → JFK" }).first()).toBeVisible({ timeout: 2_000 });
  }).toPass({ timeout: 30_000 });
  await shot(admin, "admin-analytics");
  expect(problems).toEqual([]);
});

test("a provider answers with a new price: nothing booked until the traveller takes it, then confirmed live", async ({ page }) => {
  const problems = watchConsole(page);
  await signUp(page, uniqueEmail("repriced"));
  // The e2e server's simulated provider moves every offer's price by +7% at booking time.
  await finishedSearch(page, {
    origins: ["LHR"], destinations: ["BKK"], departureFrom: isoDay(45), departureTo: isoDay(45), providers: ["simulated"],
  });
  const offer = page.getByTestId("offer-row").first();
  const price = (await offer.getByTestId("price").textContent()) ?? "";
  await slowBookings(page, 1000);
  await offer.getByRole("button", { name: "Book" }).click();
  await fillPassenger(page, "Grace", "Hopper");
  await page.getByRole("button", { name: `Book for ${price}` }).click();
  const rows = page.getByTestId("booking-row");
  await expect(rows.first().getByTestId("booking-status")).toHaveText("booking…");
  // The worker asks the provider; its answer is pushed over the socket.
  await expect(rows.first().getByTestId("booking-status")).toHaveText("not booked", { timeout: 30_000 });
  await expect(rows.first().getByTestId("booking-problem")).toContainText("The price changed to");
  const accept = rows.first().getByRole("button", { name: /^Book at / });
  const newPrice = ((await accept.textContent()) ?? "").replace("Book at ", "");
  expect(newPrice).not.toBe(price);
  await accept.click();
  const confirmed = rows.filter({ hasText: newPrice }).filter({ has: page.getByTestId("booking-status").getByText("confirmed") });
  await expect(confirmed).toHaveCount(1, { timeout: 30_000 });
  await expect(confirmed).toContainText("ref. SIM-");
  await shot(page, "booking-price-changed");
  expect(problems).toEqual([]);
});
