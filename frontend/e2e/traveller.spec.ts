import { expect, test, type WebSocketRoute } from "@playwright/test";

import { isoDay, logOut, pickPlace, shot, signUp, startLongSearch, uniqueEmail, watchConsole } from "./helpers";

test("a traveller signs up, watches a search run live, sorts its results and opens the calendar", async ({ page, context }) => {
  const problems = watchConsole(page);
  await context.grantPermissions(["notifications"]);
  await signUp(page, uniqueEmail("ada"));
  await shot(page, "my-searches-empty");
  // No admin links for travellers.
  await expect(page.getByRole("link", { name: "Admin" })).toHaveCount(0);

  await page.getByRole("link", { name: "New search" }).first().click();
  await pickPlace(page, "origins", "Lond", "LON");
  await pickPlace(page, "destinations", "Bangk", "BKK");
  await page.getByLabel("Earliest departure").fill(isoDay(30));
  await page.getByLabel("Latest departure").fill(isoDay(44));
  await page.getByLabel("Name (optional)").fill("Bangkok in spring");
  await shot(page, "new-search");
  await page.getByRole("button", { name: "Search", exact: true }).click();
  await expect(page).toHaveURL(/\/searches\/[0-9a-f-]{36}$/);

  // The bar moves by itself, over the websocket, to 100%.
  const bar = page.getByRole("progressbar", { name: "Search progress" });
  const seen = new Set<number>();
  await expect
    .poll(async () => {
      const value = Number(await bar.getAttribute("aria-valuenow"));
      seen.add(value);
      return value;
    }, { timeout: 90_000, intervals: [100] })
    .toBe(100);
  expect([...seen].some((v) => v > 0 && v < 100), `intermediate values seen: ${[...seen]}`).toBe(true);
  await expect(page.getByTestId("job-status")).toHaveText("SUCCEEDED");
  await expect(page.getByTestId("best-offer")).toContainText(/^Best price: /);
  // The toast of the notifications subscription.
  await expect(page.getByText("Bangkok in spring finished")).toBeVisible();
  await shot(page, "search-finished");

  // Sorting: by duration, then by price, each non-decreasing.
  const rows = page.getByTestId("offer-row");
  await expect(rows.first()).toBeVisible();
  await page.getByRole("button", { name: /^Flight time/ }).click();
  await expect(page.getByRole("button", { name: /^Flight time ▲/ })).toBeVisible();
  await expect
    .poll(async () => {
      const durations = await page.getByTestId("duration").evaluateAll((cells) => cells.map((c) => Number(c.getAttribute("data-value"))));
      return durations.length > 1 && durations.every((d, i) => i === 0 || durations[i - 1] <= d);
    })
    .toBe(true);
  await page.getByRole("button", { name: /^Price/ }).click();
  await expect
    .poll(async () => {
      const prices = await page.getByTestId("price").allTextContents();
      const values = prices.map((p) => Number(p.replace(/[^0-9.]/g, "")));
      return values.length > 1 && values.every((v, i) => i === 0 || values[i - 1] <= v);
    })
    .toBe(true);
  const firstOnPageOne = await rows.first().textContent();
  await page.getByRole("button", { name: "Next page" }).click();
  await expect(page.getByText("page 2")).toBeVisible();
  await expect(rows.first()).not.toHaveText(firstOnPageOne ?? "");

  await page.getByRole("tab", { name: "Price calendar" }).click();
  const calendar = page.getByRole("grid", { name: /^Cheapest fare per departure day/ }).first();
  await expect(calendar).toBeVisible();
  await expect(calendar.getByTestId("calendar-day").first()).toBeVisible();
  await shot(page, "price-calendar");
  await page.getByRole("tab", { name: "Price over time" }).click();
  await expect(page.getByText(/Best price over time/)).toBeVisible();
  // The lazily loaded chart really draws its line, on to the search's end.
  // (Not toBeVisible: a flat line, the best fare found first, has a box 0 px high.)
  const line = page.getByTestId("price-chart").locator("path.recharts-line-curve");
  await expect(line).toBeAttached();
  await expect.poll(() => line.evaluate((p) => p.getBoundingClientRect().width)).toBeGreaterThan(100);
  await shot(page, "price-chart");

  // My searches shows it, finished.
  await page.getByRole("link", { name: "My searches" }).click();
  await expect(page.getByRole("link", { name: "Bangkok in spring" })).toBeVisible();
  await shot(page, "my-searches");
  expect(problems).toEqual([]);
});

test("the form shows the API's objections beside their fields", async ({ page }) => {
  const problems = watchConsole(page);
  await signUp(page, uniqueEmail("form"));
  await page.goto("/searches/new");
  await pickPlace(page, "origins", "Lond", "LON");
  await page.getByLabel("Earliest departure").fill(isoDay(40));
  await page.getByLabel("Latest departure").fill(isoDay(30));
  await page.getByRole("button", { name: "Search", exact: true }).click();
  // Nothing started; each message sits under its field.
  await expect(page).toHaveURL(/\/searches\/new$/);
  const to = page.getByRole("combobox", { name: "To", exact: true });
  await expect(to).toHaveAttribute("aria-invalid", "true");
  await expect(page.getByText(/give at least one airport or city code/)).toBeVisible();
  // Both bad fields at once, each beside its own field.
  const latest = page.getByLabel("Latest departure").locator("..");
  await expect(latest.getByText(/is before the earliest departure/)).toBeVisible();
  await expect(page.getByRole("alert").filter({ hasText: /give at least one airport or city code|is before the earliest departure/ })).toHaveCount(2);
  await shot(page, "new-search-errors");
  // What the API could not even read is named beside its field, not as a parse error.
  await page.getByLabel("Earliest departure").fill("");
  await page.getByLabel("Nights, at least").fill("");
  await page.getByRole("button", { name: "Search", exact: true }).click();
  await expect(page.getByText("give the earliest departure date")).toBeVisible();
  await expect(page.getByLabel("Nights, at least").locator("..").getByText("give the fewest nights as a whole number")).toBeVisible();
  await expect(page.getByText(/Failed to parse/)).toHaveCount(0);
  expect(problems).toEqual([]);
});

test("the form says what a search costs as it changes, and asks before starting a big one", async ({ page }) => {
  const problems = watchConsole(page);
  await signUp(page, uniqueEmail("estimate"));
  await page.goto("/searches/new");
  await pickPlace(page, "origins", "Lond", "LON");
  await pickPlace(page, "destinations", "Bangk", "BKK");
  await page.getByLabel("Earliest departure").fill(isoDay(30));
  await page.getByLabel("Latest departure").fill(isoDay(44));
  const estimate = page.getByTestId("estimate");
  await expect(estimate).toHaveText(/^≈ [\d,]+ queries · (under a minute|about .+)$/);
  const queries = async () => Number((/≈ ([\d,]+)/.exec((await estimate.textContent()) ?? "")?.[1] ?? "0").replaceAll(",", ""));
  const before = await queries();
  expect(before).toBeGreaterThan(0);
  // A longer window: more queries, said at once.
  await page.getByLabel("Latest departure").fill(isoDay(58));
  await expect.poll(queries).toBeGreaterThan(before);
  // Six months, up to 30 nights and two cities is big: it asks first, and starts nothing.
  await page.getByLabel("Latest departure").fill(isoDay(200));
  await page.getByLabel("Nights, at least").fill("1");
  await page.getByLabel("Nights, at most").fill("30");
  await pickPlace(page, "destinations", "Tokyo", "TYO");
  await expect.poll(queries).toBeGreaterThan(50_000);
  await expect(estimate).toHaveText(/\d,\d{3}/);
  await page.getByRole("button", { name: "Search", exact: true }).click();
  await expect(page.getByText(/Start it anyway\?/)).toBeVisible();
  await expect(page).toHaveURL(/\/searches\/new$/);
  // Changing the form takes the question back.
  await page.getByLabel("Nights, at most").fill("7");
  await expect(page.getByText(/Start it anyway\?/)).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Search", exact: true })).toBeVisible();
  expect(problems).toEqual([]);
});

test("a search that found nothing says so, and why it may have", async ({ page }) => {
  const problems = watchConsole(page);
  await signUp(page, uniqueEmail("nothing"));
  await page.goto("/searches/new");
  await pickPlace(page, "origins", "Lond", "LON");
  await pickPlace(page, "destinations", "Bangk", "BKK");
  await page.getByLabel("Earliest departure").fill(isoDay(30));
  await page.getByLabel("Latest departure").fill(isoDay(31));
  await page.getByLabel("Price cap (all passengers)").fill("1");
  await page.getByRole("button", { name: "Search", exact: true }).click();
  await expect(page).toHaveURL(/\/searches\/[0-9a-f-]{36}$/);
  await expect(page.getByTestId("job-status")).toHaveText("SUCCEEDED", { timeout: 90_000 });
  await expect(page.getByText("No flights found: nothing at or under the price cap of €1.00")).toBeVisible();
  await expect(page.getByText(/\(yet\)|Best so far/)).toHaveCount(0);
  expect(problems).toEqual([]);
});

test("a running search is paused, resumed and cancelled from its page, live in the list", async ({ page }) => {
  const problems = watchConsole(page);
  await signUp(page, uniqueEmail("cancel"));
  await startLongSearch(page);
  // The page sets its security headers: a nonce-based script policy.
  const headers = (await page.request.get(page.url())).headers();
  expect(headers["content-security-policy"]).toMatch(/script-src 'self' 'nonce-[^']+' 'strict-dynamic'/);
  expect(headers["x-frame-options"]).toBe("DENY");

  await page.getByRole("button", { name: "Pause" }).click();
  await expect(page.getByTestId("job-status")).toHaveText("PAUSED");
  const paused = await page.getByTestId("percent").textContent();
  await page.getByRole("button", { name: "Resume" }).click();
  await expect(page.getByTestId("job-status")).toHaveText("RUNNING");
  await expect(page.getByTestId("percent")).not.toHaveText(paused ?? "");

  // Cancelled from its page: the button says so at once (optimistically).
  page.once("dialog", (dialog) => dialog.accept());
  await page.getByRole("button", { name: "Cancel search" }).click();
  // "Cancelling…" shows until the worker lets go, which may be quicker than a look.
  await expect(
    page.getByRole("button", { name: "Cancelling…" }).or(page.getByTestId("job-status").filter({ hasText: "CANCELLED" })),
  ).toBeVisible();
  await expect(page.getByTestId("job-status")).toHaveText("CANCELLED");
  const percent = Number((await page.getByTestId("percent").textContent())?.replace("%", ""));
  expect(percent).toBeLessThan(100);
  await expect(page.getByText(/was cancelled/)).toBeVisible();
  await shot(page, "search-cancelled");

  // My searches is live too: a search started (and paused) elsewhere appears in it; resumed
  // elsewhere, it moves and ends there, all with no reload.
  await page.getByRole("link", { name: "My searches" }).click();
  await expect(page).toHaveURL(/\/searches$/);
  const elsewhere = async (query: string, variables: Record<string, unknown>) => {
    const response = await page.request.post("/api/graphql", { data: { query, variables } });
    expect(response.ok()).toBe(true);
    const body = await response.json();
    expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
    return body.data;
  };
  const { startSearch } = await elsewhere("mutation($i: SearchInput!) { startSearch(input: $i) { id } }", {
    i: {
      origins: ["PAR"], destinations: ["ROM"], departureFrom: isoDay(20), departureTo: isoDay(79),
      nights: { min: 5, max: 12 }, label: "Started elsewhere",
    },
  });
  await elsewhere("mutation($id: UUID!) { pauseSearch(id: $id) { id } }", { id: startSearch.id });
  const row = page.locator("tr", { hasText: "Started elsewhere" });
  await expect(row.locator(".status")).toHaveText("PAUSED");
  await elsewhere("mutation($id: UUID!) { resumeSearch(id: $id) { id } }", { id: startSearch.id });
  await expect(row.locator(".status")).toHaveText(/QUEUED|RUNNING|SUCCEEDED/);
  await expect(row.locator(".status")).toHaveText("SUCCEEDED", { timeout: 90_000 });
  await expect(row.getByRole("progressbar")).toHaveAttribute("aria-valuenow", "100");
  expect(problems).toEqual([]);
});

test("when the socket drops, the page says so, and live updates come back by themselves", async ({ page }) => {
  const problems = watchConsole(page);
  // Every socket to the API goes through here: passed on while `down` is false, and
  // closed as a restarting server would (1012) while it is true.
  let down = false;
  const open: WebSocketRoute[] = [];
  await page.routeWebSocket(/\/graphql$/, (ws) => {
    if (down) {
      ws.close({ code: 1012, reason: "service restart" });
      return;
    }
    ws.connectToServer();
    open.push(ws);
  });
  await signUp(page, uniqueEmail("offline"));
  await startLongSearch(page);
  const percent = page.getByTestId("percent");
  await expect(percent).not.toHaveText("0.0%");
  await expect(page.getByTestId("live-banner")).toHaveCount(0);

  down = true;
  open.splice(0).forEach((ws) => ws.close({ code: 1012, reason: "service restart" }));
  await expect(page.getByTestId("live-banner")).toBeVisible();
  await shot(page, "live-updates-lost");
  // Nothing moves while the socket is away (progress only comes over it).
  const frozen = await percent.textContent();
  await page.waitForTimeout(1500);
  await expect(percent).toHaveText(frozen ?? "");

  down = false;
  await expect(page.getByTestId("live-banner")).toHaveCount(0, { timeout: 60_000 });
  await expect(percent).not.toHaveText(frozen ?? "");
  page.once("dialog", (dialog) => dialog.accept());
  await page.getByRole("button", { name: "Cancel search" }).click();
  await expect(page.getByTestId("job-status")).toHaveText("CANCELLED");
  expect(problems).toEqual([]);
});

test("nobody opens another user's search", async ({ page }) => {
  const problems = watchConsole(page, [/status of 404/]);
  await signUp(page, uniqueEmail("owner"));
  await page.goto("/searches/new");
  await pickPlace(page, "origins", "Paris", "PAR");
  await pickPlace(page, "destinations", "New York", "NYC");
  await page.getByRole("button", { name: "Search", exact: true }).click();
  await expect(page).toHaveURL(/\/searches\/[0-9a-f-]{36}$/);
  const url = page.url();
  await logOut(page);

  // Signed out: to the log-in page.
  await page.goto(url);
  await expect(page).toHaveURL(/\/login/);
  await signUp(page, uniqueEmail("intruder"));
  const response = await page.goto(url);
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Not found" })).toBeVisible();
  await expect(page.getByText("Paris")).toHaveCount(0);
  // The admin pages do not exist for travellers either.
  const admin = await page.goto("/admin/imports");
  expect(admin?.status()).toBe(404);
  await shot(page, "not-found");
  expect(problems).toEqual([]);
});

test("on a phone, the first objection is scrolled into view", async ({ browser }) => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  const problems = watchConsole(page);
  await signUp(page, uniqueEmail("phone-errors"));
  await page.goto("/searches/new");
  await pickPlace(page, "origins", "Lond", "LON");
  await pickPlace(page, "destinations", "Bangk", "BKK");
  await page.getByLabel("Earliest departure").fill(isoDay(-2));
  await page.getByLabel("Latest departure").fill(isoDay(30));
  // Typing the name at the foot of the form, the dates are above the screen.
  await page.getByLabel("Name (optional)").fill("Far down");
  await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
  await expect(page.getByLabel("Earliest departure")).not.toBeInViewport();
  const objection = page.getByText(/is in the past/);
  await page.getByLabel("Name (optional)").press("Enter");
  await expect(objection).toBeVisible();
  await expect(objection).toBeInViewport();
  expect(problems).toEqual([]);
  await context.close();
});

test("the app works on a phone-sized screen, by keyboard", async ({ browser }) => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  const problems = watchConsole(page);
  await signUp(page, uniqueEmail("phone"));
  await page.goto("/searches/new");
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(1);
  await shot(page, "new-search-phone");
  // Keyboard only: pick an airport with the arrow keys and Enter.
  await page.getByTestId("origins-input").focus();
  await page.keyboard.type("Lond");
  await expect(page.getByRole("option").first()).toBeVisible();
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("origins-chip")).toHaveCount(1);
  await page.getByTestId("destinations-input").focus();
  await page.keyboard.type("Singa");
  await expect(page.getByRole("option").first()).toBeVisible();
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("destinations-chip")).toHaveCount(1);
  await page.getByRole("button", { name: "Search", exact: true }).focus();
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/searches\/[0-9a-f-]{36}$/);
  await expect(page.getByTestId("job-status")).toHaveText("SUCCEEDED", { timeout: 90_000 });
  await expect(page.getByTestId("offer-row").first()).toBeVisible();
  // Wide tables scroll inside their panels; the page itself never scrolls sideways.
  const wide = () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(await wide()).toBeLessThanOrEqual(1);
  await shot(page, "search-phone");
  await page.getByRole("tab", { name: "Results" }).focus();
  await page.keyboard.press("ArrowRight");
  await expect(page.getByRole("tab", { name: "Price calendar" })).toBeFocused();
  await expect(page.getByRole("grid", { name: /^Cheapest fare per departure day/ }).first()).toBeVisible();
  expect(await wide()).toBeLessThanOrEqual(1);
  await page.goto("/searches");
  await expect(page.getByRole("progressbar").first()).toBeVisible();
  expect(await wide()).toBeLessThanOrEqual(1);
  await shot(page, "my-searches-phone");
  expect(problems).toEqual([]);
  await context.close();
});
