import { expect, type Page, test } from "@playwright/test";

import { finishedSearch, isoDay, logOut, PASSWORD, shot, signUp, uniqueEmail, watchConsole } from "./helpers";

const SEARCH = {
  origins: ["LHR"],
  destinations: ["BKK", "SIN"],
  departureFrom: isoDay(40),
  departureTo: isoDay(46),
  nights: { min: 7, max: 9 },
  adults: 2,
  providers: ["simulated"],
  label: "Results in the URL",
};

/** The shared search of these tests, finished, on its page. */
const finished = (page: Page, input: Record<string, unknown> = SEARCH) => finishedSearch(page, input);

const firstPrice = (page: Page) => page.getByTestId("offer-row").first().getByTestId("price").innerText();

test("a result opens its itinerary: both legs, their flights and layovers, the price per traveller", async ({ page }) => {
  const problems = watchConsole(page);
  await signUp(page, uniqueEmail("itinerary"));
  await finished(page);
  await expect(page).toHaveTitle("Results in the URL · fast-flights");
  await expect(page.getByTestId("spec-summary")).toContainText("LHR → BKK, SIN");
  await expect(page.getByTestId("spec-summary")).toContainText("7–9 nights · 2 travellers · economy");

  // The most stops first, so the row has layovers.
  await page.getByRole("button", { name: "Stops", exact: true }).click();
  await page.getByRole("button", { name: "Stops ▲" }).click();
  await expect(page.getByRole("button", { name: "Stops ▼" })).toBeVisible();
  const row = page.getByTestId("offer-row").first();
  await expect(row.getByTestId("stops")).not.toHaveText("direct");
  await expect(row.getByTestId("return-numbers")).toBeVisible();
  await row.getByRole("button", { name: "Details" }).click();
  const itinerary = page.getByTestId("itinerary");
  const legs = itinerary.getByTestId("leg");
  await expect(legs).toHaveCount(2);
  await expect(legs.nth(0)).toContainText("Outbound: LHR →");
  await expect(legs.nth(1)).toContainText("Return:");
  await expect(legs.nth(0).getByTestId("segment").first()).toContainText(/\d{1,2}:\d{2}( [AP]M)? → \w{3} \d{1,2}:\d{2}/);
  await expect(legs.nth(0).getByTestId("layover").first()).toContainText(/Change at \w{3}: 1 h 30 layover/);
  expect(await legs.nth(0).getByTestId("segment").count()).toBe((await legs.nth(0).getByTestId("layover").count()) + 1);
  await expect(itinerary.getByTestId("itinerary-price")).toContainText(/per traveller · .* for 2 travellers/);
  await expect(itinerary).toContainText("simulated fares");
  // No answer cache in these specs: every price was fetched by the search itself.
  await expect(itinerary.getByTestId("itinerary-seen")).toHaveText(/^(just now|\d+ minutes? ago)$/);
  await shot(page, "itinerary");
  // The open details are in the URL too.
  await page.reload();
  await expect(page.getByTestId("itinerary")).toBeVisible();
  expect(problems).toEqual([]);
});

test("sort, filters, page and tab live in the URL: reload keeps them, Back and Forward move through them", async ({ page }) => {
  const problems = watchConsole(page);
  await signUp(page, uniqueEmail("url"));
  const id = await finished(page);
  const cheapest = await firstPrice(page);

  await page.getByRole("button", { name: "Price (2 travellers)" }).click();
  await expect(page).toHaveURL(/sort=-price/);
  await expect(page.getByTestId("offer-row").first().getByTestId("price")).not.toHaveText(cheapest);
  await page.getByLabel("Stops").selectOption("1");
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(/stops=1/);
  await expect(page.getByTestId("result-count")).toContainText("match these filters");
  const count = await page.getByTestId("result-count").innerText();
  await page.getByRole("button", { name: "Next page" }).click();
  await expect(page).toHaveURL(/after=/);
  await expect(page.getByTestId("result-count")).toContainText("page 2");
  const secondPage = await firstPrice(page);

  await page.reload();
  await expect(page.getByTestId("result-count")).toHaveText(count.replace("page 1", "page 2"));
  expect(await firstPrice(page)).toBe(secondPage);
  await expect(page.getByLabel("Stops")).toHaveValue("1");
  await expect(page.getByRole("button", { name: /Price.*▼/ })).toBeVisible();

  // Back: page 1 of the same search, not the page before the search.
  await page.goBack();
  await expect(page).toHaveURL(new RegExp(`/searches/${id}\\?.*stops=1`));
  await expect(page).not.toHaveURL(/after=/);
  await expect(page.getByTestId("result-count")).toContainText("page 1");
  await page.goForward();
  await expect(page.getByTestId("result-count")).toContainText("page 2");

  await page.getByRole("tab", { name: "Price calendar" }).click();
  await expect(page).toHaveURL(/tab=calendar/);
  await page.reload();
  await expect(page.getByRole("tab", { name: "Price calendar" })).toHaveAttribute("aria-selected", "true");
  await page.goBack();
  await expect(page.getByRole("tab", { name: "Results" })).toHaveAttribute("aria-selected", "true");
  expect(problems).toEqual([]);
});

test("departure and return time windows keep the flights leaving then, in local time", async ({ page }) => {
  const problems = watchConsole(page);
  await signUp(page, uniqueEmail("times"));
  await finished(page);
  await page.getByLabel("Leaves (local time)").selectOption({ label: "Morning (06:00–11:59)" });
  await page.getByLabel("Flies back (local time)").selectOption({ label: "Evening (from 18:00)" });
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(/leaves=06%3A00-11%3A59/);
  await expect(page).toHaveURL(/returns=18%3A00-23%3A59/);
  await expect(page.getByTestId("result-count")).toContainText("match these filters");
  const rows = page.getByTestId("offer-row");
  await expect(rows.first()).toBeVisible();
  // The times carry their airport's offset: the hour written is the local one.
  const hour = (iso: string | null) => Number(iso?.slice(11, 13));
  for (const value of await rows.getByTestId("departure").evaluateAll((cells) => cells.map((c) => c.getAttribute("data-value")))) {
    expect(hour(value)).toBeGreaterThanOrEqual(6);
    expect(hour(value)).toBeLessThan(12);
  }
  for (const value of await rows.getByTestId("return").evaluateAll((cells) => cells.map((c) => c.getAttribute("data-value")))) {
    expect(hour(value)).toBeGreaterThanOrEqual(18);
  }
  await page.reload();
  await expect(page.getByLabel("Leaves (local time)")).toHaveValue("06:00-11:59");
  await expect(page.getByLabel("Flies back (local time)")).toHaveValue("18:00-23:59");
  expect(problems).toEqual([]);
});

test("a day of the month calendar shows its flights", async ({ page }) => {
  const problems = watchConsole(page);
  await signUp(page, uniqueEmail("calendar"));
  await finished(page);
  await page.getByRole("tab", { name: "Price calendar" }).click();
  await page.getByLabel("Trip length").selectOption("8");
  await page.getByLabel("Destination").selectOption("SIN");
  const day = page.getByTestId("calendar-day").nth(2);
  const date = await day.getAttribute("data-date");
  expect(date).toBeTruthy();
  await shot(page, "month-calendar");
  await day.click();
  await expect(page.getByRole("tab", { name: "Results" })).toHaveAttribute("aria-selected", "true");
  await expect(page).toHaveURL(new RegExp(`day=${date}`));
  const rows = page.getByTestId("offer-row");
  await expect(rows.first()).toBeVisible();
  for (const value of await rows.getByTestId("departure").evaluateAll((cells) => cells.map((c) => c.getAttribute("data-value")))) {
    expect(value?.slice(0, 10)).toBe(date);
  }
  await expect(page.getByText(/^leaving /)).toBeVisible();
  await page.getByRole("button", { name: /Show every date/ }).first().click();
  await expect(page).not.toHaveURL(/day=/);
  expect(problems).toEqual([]);
});

test("a search link opened while logged out comes back after logging in", async ({ page }) => {
  const email = uniqueEmail("next");
  await signUp(page, email);
  const id = await finished(page);
  const url = `/searches/${id}?sort=-duration&tab=chart`;
  await logOut(page);
  await page.goto(url);
  await expect(page).toHaveURL(/\/login\?next=/);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL(new RegExp(`/searches/${id}\\?sort=-duration&tab=chart$`));
  await expect(page.getByRole("tab", { name: "Price over time" })).toHaveAttribute("aria-selected", "true");
  // Another site is never where it goes.
  await logOut(page);
  await page.goto("/login?next=//evil.example.com/");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL(/\/searches$/);
});

test("search again starts the same search; rename and delete are the owner's", async ({ page }) => {
  const problems = watchConsole(page);
  await signUp(page, uniqueEmail("again"));
  const id = await finished(page, { ...SEARCH, label: null });
  const summary = await page.getByTestId("spec-summary").innerText();
  await page.getByRole("button", { name: "Search again" }).click();
  await expect(page).not.toHaveURL(new RegExp(id));
  await expect(page).toHaveURL(/\/searches\/[0-9a-f-]{36}$/);
  await expect(page.getByTestId("spec-summary")).toHaveText(summary);
  await expect(page.getByTestId("job-status")).toHaveText("SUCCEEDED", { timeout: 60_000 });
  const again = page.url();

  await page.getByRole("button", { name: "Rename" }).click();
  await page.getByLabel("Name of this search").fill("Asia, again");
  await page.getByRole("button", { name: "Save name" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Asia, again");
  await expect(page).toHaveTitle("Asia, again · fast-flights");

  await page.getByRole("link", { name: "Edit as new" }).click();
  await expect(page.getByLabel("Name (optional)")).toHaveValue("Asia, again (copy)");
  await expect(page.getByLabel("Nights, at most")).toHaveValue("9");

  await page.goto(again);
  page.once("dialog", (d) => void d.accept());
  await page.getByRole("button", { name: "Delete" }).click();
  await expect(page).toHaveURL(/\/searches$/);
  await expect(page.locator(`[data-job-id="${again.split("/").at(-1)}"]`)).toHaveCount(0);
  const gone = await page.goto(again);
  expect(gone?.status()).toBe(404);
  expect(problems.filter((p) => !p.includes("404"))).toEqual([]);
});

test("on a phone, a search page and My searches fit the screen and the best flight is on the first screen", async ({ browser }) => {
  const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
  await signUp(page, uniqueEmail("phone-results"));
  await finished(page);
  await expect(page.getByTestId("best-offer")).toBeInViewport();
  const header = await page.locator("header.site").boundingBox();
  expect(header?.height ?? 999).toBeLessThan(70);
  for (const path of [page.url(), "/searches"]) {
    await page.goto(path);
    await expect(page.locator("main")).toBeVisible();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow, `${path} scrolls sideways`).toBeLessThanOrEqual(0);
    const wide = await page.evaluate(() =>
      [...document.querySelectorAll(".table-wrap")].filter((el) => el.scrollWidth > el.clientWidth + 1).length,
    );
    expect(wide, `${path} has a table that scrolls sideways`).toBe(0);
  }
  await shot(page, "phone-my-searches");
  await page.getByRole("button", { name: "Menu" }).click();
  await expect(page.locator("header.site").getByRole("link", { name: "New search" })).toBeVisible();
  await page.close();
});
