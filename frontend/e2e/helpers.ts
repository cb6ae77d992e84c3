import { expect, type Page } from "@playwright/test";

export const ADMIN_EMAIL = process.env.E2E_ADMIN_EMAIL ?? "admin@example.com";
export const ADMIN_PASSWORD = process.env.E2E_ADMIN_PASSWORD ?? "admin password e2e";
export const PASSWORD = "a traveller's password";

/** Fails the test on any console error or uncaught exception of the page. */
export function watchConsole(page: Page, allowed: RegExp[] = []): string[] {
  const problems: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error" && !allowed.some((a) => a.test(m.text()))) problems.push(m.text());
  });
  page.on("pageerror", (e) => problems.push(`uncaught: ${e.message}`));
  return problems;
}

export function uniqueEmail(who: string): string {
  return `${who}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
}

export async function signUp(page: Page, email: string) {
  await page.goto("/signup");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/searches$/);
}

export async function logIn(page: Page, email: string, password: string) {
  await page.goto("/login");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL(/\/searches$/);
}

export async function logOut(page: Page) {
  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page).toHaveURL(/\/login$/);
}

/** Picks a place in an airport field by typing and choosing the first suggestion. */
export async function pickPlace(page: Page, field: "origins" | "destinations", text: string, code: string) {
  const input = page.getByTestId(`${field}-input`);
  // Typed before the page has hydrated, the text sits there with nobody listening: type again.
  await expect(async () => {
    await input.fill("");
    await input.fill(text);
    await expect(page.getByRole("option").first()).toBeVisible({ timeout: 3_000 });
  }).toPass({ timeout: 30_000 });
  await page.getByRole("option", { name: new RegExp(`^${code}\\b`) }).first().click();
  await expect(page.getByTestId(`${field}-chip`).filter({ hasText: code })).toBeVisible();
}

/** Starts a search long enough (about 10,000 queries) to act on while it runs; on its page. */
export async function startLongSearch(page: Page) {
  await page.goto("/searches/new");
  await pickPlace(page, "origins", "Lond", "LON");
  await pickPlace(page, "destinations", "Tokyo", "TYO");
  await page.getByLabel("Earliest departure").fill(isoDay(20));
  await page.getByLabel("Latest departure").fill(isoDay(140));
  await page.getByLabel("Nights, at most").fill("14");
  await page.getByRole("button", { name: "Search", exact: true }).click();
  await expect(page).toHaveURL(/\/searches\/[0-9a-f-]{36}$/);
  await expect(page.getByTestId("job-status")).toHaveText("RUNNING");
}

export function isoDay(offset: number): string {
  return new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
}

export async function shot(page: Page, name: string) {
  await page.screenshot({ path: `test-results/screenshots/${name}.png`, fullPage: true });
}

/** A GraphQL request with the page's session (through the app's own /api/graphql). */
export async function gql(page: Page, query: string, variables: Record<string, unknown> = {}) {
  const response = await page.request.post("/api/graphql", { data: { query, variables } });
  const body = await response.json();
  expect(body.errors, JSON.stringify(body)).toBeUndefined();
  return body.data;
}

/** Starts a search and opens its page once it has finished. */
export async function finishedSearch(page: Page, input: Record<string, unknown>) {
  const data = await gql(page, "mutation($i: SearchInput!) { startSearch(input: $i) { id } }", { i: input });
  const id = data.startSearch.id as string;
  await page.goto(`/searches/${id}`);
  await expect(page.getByTestId("job-status")).toHaveText("SUCCEEDED", { timeout: 60_000 });
  await expect(page.getByTestId("offer-row").first()).toBeVisible();
  return id;
}
