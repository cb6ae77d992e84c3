import { defineConfig, devices } from "@playwright/test";

// The real `fast-flights` binary on a fresh PostgreSQL database (made by `just e2e`, which
// also makes the admin) and `next start` of the built app.
const apiPort = process.env.E2E_API_PORT ?? "18181";
const webPort = process.env.E2E_WEB_PORT ?? "13131";
const databaseUrl = process.env.E2E_DATABASE_URL;
const binary = process.env.FAST_FLIGHTS_BIN;
if (!databaseUrl || !binary) {
  throw new Error("run the browser tests with `just e2e` (E2E_DATABASE_URL and FAST_FLIGHTS_BIN are not set)");
}

export default defineConfig({
  testDir: "./e2e",
  outputDir: "./test-results/artifacts",
  timeout: 120_000,
  expect: { timeout: 30_000 },
  fullyParallel: false,
  workers: 1,
  forbidOnly: Boolean(process.env.CI),
  reporter: [["list"]],
  use: {
    baseURL: `http://127.0.0.1:${webPort}`,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
  },
  projects: [
    {
      name: "chromium",
      use: {
        ...devices["Desktop Chrome"],
        launchOptions: {
          executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
          args: [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
          ],
        },
      },
    },
  ],
  webServer: [
    {
      command: `${binary} serve`,
      url: `http://127.0.0.1:${apiPort}/healthz`,
      timeout: 60_000,
      reuseExistingServer: false,
      stdout: "ignore",
      stderr: "pipe",
      env: {
        DATABASE_URL: databaseUrl,
        LISTEN_ADDR: `127.0.0.1:${apiPort}`,
        JWT_SECRET: process.env.E2E_JWT_SECRET ?? "e2e-secret-e2e-secret-e2e-secret-e2e-secret",
        // Access tokens live 15 s, so every test runs across silent refreshes
        // (sessions.spec.ts waits past expiry on purpose).
        JWT_TTL_SECS: process.env.E2E_JWT_TTL_SECS ?? "15",
        SIMULATED_LATENCY_MS: "100",
        // The specs watch long searches run, pause and get cancelled, and one server serves
        // them all: answers cached from an earlier spec's search of the same route would
        // finish a later one at once. The cache is tested by tests/e2e/answer_cache.rs.
        PROVIDER_CACHE: "off",
        // Booked offers of the simulated provider cost 7% more than found: bookings.spec.ts
        // books one, is told PRICE_CHANGED and takes the new price.
        SIMULATED_PRICE_CHANGE_RATE: "1",
        // Webhook retries 200 ms apart (webhooks.spec.ts), and a fixed test key that seals
        // the endpoints' signing secrets, so they still open after a restart of the server.
        WEBHOOK_RETRY_BASE_MS: "200",
        WEBHOOK_SECRETS_KEY: "32UQ0lnI52fndwFAgSVsADMaKiIU41kB6QLdhaxLhhM=", // a test key, no secret
        CHECKPOINT_EVERY_MS: "250",
        POLL_INTERVAL_MS: "100",
        RUST_LOG: "warn",
      },
    },
    {
      command: `npx next start -p ${webPort} -H 127.0.0.1`,
      url: `http://127.0.0.1:${webPort}/login`,
      timeout: 60_000,
      reuseExistingServer: false,
      stdout: "ignore",
      env: {
        FAST_FLIGHTS_API_URL: `http://127.0.0.1:${apiPort}`,
        NEXT_TELEMETRY_DISABLED: "1",
      },
    },
  ],
});
