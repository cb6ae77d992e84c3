import { expect, test, type BrowserContext } from "@playwright/test";

import { logOut, signUp, startLongSearch, uniqueEmail, watchConsole } from "./helpers";

// `just e2e` runs the API with JWT_TTL_SECS=15: access tokens die quickly, and the web app
// must refresh them with the refresh cookie without the user noticing.
const apiPort = process.env.E2E_API_PORT ?? "18181";
const PAST_EXPIRY_MS = 20_000;

async function cookie(context: BrowserContext, name: string) {
  return (await context.cookies()).find((c) => c.name === name || c.name === `__Host-${name}`);
}

test("a signed-in user keeps working past the access token's lifetime, refreshed silently", async ({ page, context }) => {
  test.setTimeout(240_000);
  const problems = watchConsole(page);
  await signUp(page, uniqueEmail("stayer"));
  const access = await cookie(context, "ff_session");
  const refresh = await cookie(context, "ff_refresh");
  expect(access?.httpOnly).toBe(true);
  expect(refresh?.httpOnly).toBe(true);

  // Past expiry, a navigation and the new-search page's Apollo queries and mutation work.
  await page.waitForTimeout(PAST_EXPIRY_MS);
  await startLongSearch(page);
  await page.getByRole("button", { name: "Pause" }).click();
  await expect(page.getByTestId("job-status")).toHaveText("PAUSED");

  // Past expiry again on a live page: an Apollo mutation works, and progress keeps coming
  // over the websocket (the only way it comes).
  await page.waitForTimeout(PAST_EXPIRY_MS);
  const percent = page.getByTestId("percent");
  const paused = await percent.textContent();
  await page.getByRole("button", { name: "Resume" }).click();
  await expect(page.getByTestId("job-status")).toHaveText("RUNNING");
  await expect(percent).not.toHaveText(paused ?? "");

  // And once more: a client-side navigation, then a full reload.
  await page.waitForTimeout(PAST_EXPIRY_MS);
  await page.getByRole("link", { name: "My searches" }).click();
  await expect(page).toHaveURL(/\/searches$/);
  await expect(page.locator("tr").filter({ has: page.getByRole("progressbar") }).first()).toBeVisible();
  await page.waitForTimeout(PAST_EXPIRY_MS);
  await page.reload();
  await expect(page).toHaveURL(/\/searches$/);
  await expect(page.getByRole("button", { name: "Log out" })).toBeVisible();

  const later = await cookie(context, "ff_session");
  expect(later?.value).toBeTruthy();
  expect(later?.value).not.toBe(access?.value);
  expect((await cookie(context, "ff_refresh"))?.value).not.toBe(refresh?.value);

  // Logging out ends the session at the API, not only in the browser.
  await logOut(page);
  const answer = await page.request.post(`http://127.0.0.1:${apiPort}/graphql`, {
    headers: { authorization: `Bearer ${later?.value}` },
    data: { query: "{ me { email } }" },
  });
  expect(answer.status()).toBe(401);
  expect(await cookie(context, "ff_session")).toBeUndefined();
  expect(await cookie(context, "ff_refresh")).toBeUndefined();
  expect(problems).toEqual([]);
});

test("the API routes carry the security headers too", async ({ page }) => {
  const answer = await page.request.post("/api/graphql", { data: { query: "{ me { email } }" } });
  const headers = answer.headers();
  expect(headers["x-content-type-options"]).toBe("nosniff");
  expect(headers["referrer-policy"]).toBe("same-origin");
  expect(headers["x-frame-options"]).toBe("DENY");
});
