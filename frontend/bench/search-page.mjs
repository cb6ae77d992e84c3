// `just bench web`: the server-rendered search page of a search with 10,000+ offers —
// time to first byte and the JavaScript the browser downloads for it. Prints figures;
// asserts nothing. Needs E2E-style env: FAST_FLIGHTS_BIN, BENCH_DATABASE_URL.
import { spawn, execFileSync } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { statSync, readdirSync, readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { join } from "node:path";

import { chromium } from "playwright-core";

const bin = process.env.FAST_FLIGHTS_BIN;
const db = process.env.BENCH_DATABASE_URL;
if (!bin || !db) throw new Error("run with `just bench web`");
const apiPort = 18282;
const webPort = 13232;
const api = `http://127.0.0.1:${apiPort}`;
const web = `http://127.0.0.1:${webPort}`;
const RUNS = 15;

const children = [];
async function start(cmd, args, env, url) {
  // A server left over from an earlier run would be measured instead of this one.
  const stale = await fetch(url).then(() => true, () => false);
  if (stale) throw new Error(`something already answers on ${url}; stop it first`);
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "inherit"] });
  child.on("exit", (code) => {
    if (!finished) {
      console.error(`${cmd} exited early (${code})`);
      process.exit(1);
    }
  });
  children.push(child);
  return child;
}
let finished = false;
process.on("exit", () => children.forEach((c) => c.kill("SIGTERM")));

async function waitFor(url) {
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {}
    await sleep(200);
  }
  throw new Error(`${url} did not come up`);
}

async function gql(query, variables, token) {
  const r = await fetch(`${api}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = await r.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

const secret = "bench-secret-bench-secret-bench-secret-bench";
await start(bin, ["serve"], { DATABASE_URL: db, LISTEN_ADDR: `127.0.0.1:${apiPort}`, JWT_SECRET: secret, SIMULATED_LATENCY_MS: "0", RUST_LOG: "warn" }, `${api}/healthz`);
await waitFor(`${api}/healthz`);
// next's own entry point, not npx, so that killing the child stops the server.
await start(process.execPath, ["node_modules/next/dist/bin/next", "start", "-p", String(webPort), "-H", "127.0.0.1"], { FAST_FLIGHTS_API_URL: api, NEXT_TELEMETRY_DISABLED: "1" }, `${web}/login`);
await waitFor(`${web}/login`);

const { signUp } = await gql(`mutation { signUp(email: "bench@example.com", password: "bench password 1") { token } }`, {});
const token = signUp.token;
const day = (n) => new Date(Date.now() + n * 86_400_000).toISOString().slice(0, 10);
const { startSearch } = await gql(
  `mutation($i: SearchInput!) { startSearch(input: $i) { id totalTasks } }`,
  { i: { origins: ["LON"], destinations: ["BKK", "SIN", "HKG"], departureFrom: day(30), departureTo: day(59), nights: { min: 7, max: 14 }, providers: ["simulated"] } },
  token,
);
let job;
for (;;) {
  ({ job } = await gql(`query($id: UUID!) { job(id: $id) { status foundFlights } }`, { id: startSearch.id }, token));
  if (job.status === "SUCCEEDED") break;
  await sleep(300);
}
if (job.foundFlights < 10_000) throw new Error(`only ${job.foundFlights} offers; widen the search`);
const url = `${web}/searches/${startSearch.id}`;
const cookie = `ff_session=${token}`;

// Time to first byte of the server-rendered page (curl, after two warm-up requests).
const ttfb = [];
for (let i = 0; i < RUNS + 2; i++) {
  const out = execFileSync("curl", ["-s", "-o", "/dev/null", "-w", "%{time_starttransfer} %{http_code} %{size_download}", "-H", `cookie: ${cookie}`, url]).toString();
  const [seconds, code, size] = out.split(" ");
  if (code !== "200") throw new Error(`the page answered ${code}`);
  if (i >= 2) ttfb.push(Number(seconds) * 1000);
  if (i === 2) console.log(`  HTML of the page: ${(Number(size) / 1024).toFixed(1)} kB`);
}

// The JavaScript a browser downloads for the page, as sent (compressed) and unpacked.
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
});
const context = await browser.newContext();
await context.addCookies([{ name: "ff_session", value: token, url: web }]);
const page = await context.newPage();
const cdp = await context.newCDPSession(page);
await cdp.send("Network.enable");
const scripts = new Map();
cdp.on("Network.responseReceived", (e) => {
  if (e.type === "Script") scripts.set(e.requestId, { url: e.response.url, encoded: 0 });
});
cdp.on("Network.loadingFinished", (e) => {
  const s = scripts.get(e.requestId);
  if (s) s.encoded = e.encodedDataLength;
});
await page.goto(url, { waitUntil: "networkidle" });
const forPage = [...scripts.values()];
// The chart's code comes only when its tab opens.
await page.getByRole("tab", { name: "Price over time" }).click();
await page.locator("path.recharts-line-curve").waitFor({ state: "attached", timeout: 30_000 });
await page.waitForLoadState("networkidle");
const forChart = [...scripts.values()].slice(forPage.length);
await browser.close();

function sizes(list) {
  let sent = 0;
  let unpacked = 0;
  let gzipped = 0;
  for (const s of list) {
    const path = join(".next/static", new URL(s.url).pathname.replace(/^\/_next\/static\//, ""));
    const bytes = readFileSync(path);
    sent += s.encoded;
    unpacked += bytes.length;
    gzipped += gzipSync(bytes, { level: 9 }).length;
  }
  const kB = (n) => (n / 1024).toFixed(1);
  return `${list.length} files, ${kB(sent)} kB as sent, ${kB(unpacked)} kB unpacked (${kB(gzipped)} kB gzipped at level 9)`;
}
// All the client JavaScript the build made, for scale.
let built = 0;
const walk = (dir) => readdirSync(dir, { withFileTypes: true }).forEach((d) => {
  const p = join(dir, d.name);
  if (d.isDirectory()) walk(p);
  else if (p.endsWith(".js")) built += statSync(p).size;
});
walk(".next/static/chunks");

console.log(`  search with ${job.foundFlights} offers; ${RUNS} requests`);
console.log(`  time to first byte: median ${median(ttfb).toFixed(1)} ms (min ${Math.min(...ttfb).toFixed(1)}, max ${Math.max(...ttfb).toFixed(1)})`);
console.log(`  JavaScript for the page: ${sizes(forPage)}`);
console.log(`  more when the chart tab opens: ${sizes(forChart)}`);
console.log(`  all client JavaScript the build made: ${(built / 1024).toFixed(1)} kB unpacked`);
finished = true;
process.exit(0);
