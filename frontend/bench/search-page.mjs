// `just bench web`: the server-rendered search page of a search with 10,000+ offers —
// time to first byte and the JavaScript the browser downloads for it — then of the same
// search grown to 534,000 offers (copies of its own, written by SQL), each tab. Prints
// figures; asserts nothing. Needs E2E-style env: FAST_FLIGHTS_BIN, BENCH_DATABASE_URL.
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
// The page streams: its first bytes (the loading state) come before the data is read, so
// the whole page's time is measured too.
const whole = [];
function timeToFirstByte(pageUrl, { quiet = false } = {}) {
  const times = [];
  whole.length = 0;
  for (let i = 0; i < RUNS + 2; i++) {
    const out = execFileSync("curl", ["-s", "-o", "/dev/null", "-w", "%{time_starttransfer} %{http_code} %{size_download} %{time_total}", "-H", `cookie: ${cookie}`, pageUrl]).toString();
    const [seconds, code, size, total] = out.split(" ");
    if (code !== "200") throw new Error(`${pageUrl} answered ${code}`);
    if (i >= 2) times.push(Number(seconds) * 1000);
    if (i >= 2) whole.push(Number(total) * 1000);
    if (i === 2 && !quiet) console.log(`  HTML of the page: ${(Number(size) / 1024).toFixed(1)} kB`);
  }
  return times;
}
const ttfb = timeToFirstByte(url);
const wholeSmall = [...whole];

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
console.log(`  time to first byte: median ${median(ttfb).toFixed(1)} ms (min ${Math.min(...ttfb).toFixed(1)}, max ${Math.max(...ttfb).toFixed(1)}); whole page: median ${median(wholeSmall).toFixed(1)} ms`);
console.log(`  JavaScript for the page: ${sizes(forPage)}`);
console.log(`  more when the chart tab opens: ${sizes(forChart)}`);
console.log(`  all client JavaScript the build made: ${(built / 1024).toFixed(1)} kB unpacked`);

// The same search grown to BIG offers: copies of its own offers (new ids and keys, prices
// spread), as a six-month search of several cities stores them.
const BIG = Number(process.env.BENCH_BIG_OFFERS ?? 534_000);
const copies = Math.ceil(BIG / job.foundFlights) - 1;
const grow = `
  INSERT INTO flight_offers (id, job_id, task_index, provider, offer_key, origin, destination, departure_date,
    return_date, departure_at, arrival_at, return_departure_at, return_arrival_at, carrier, flight_numbers, stops,
    duration_minutes, price_minor, currency, cabin, deep_link, found_at, segments, expires_at, booking_token, raw_payload,
    departure_minute, return_minute)
  SELECT gen_random_uuid(), job_id, task_index, provider, offer_key || '~' || g, origin, destination, departure_date,
    return_date, departure_at, arrival_at, return_departure_at, return_arrival_at, carrier, flight_numbers, stops,
    duration_minutes, price_minor + g * 7, currency, cabin, deep_link, found_at, segments, expires_at, booking_token, raw_payload,
    departure_minute, return_minute
  FROM flight_offers, generate_series(1, ${copies}) AS g WHERE job_id = '${startSearch.id}';
  UPDATE search_jobs SET found_flights = (SELECT COUNT(*) FROM flight_offers WHERE job_id = '${startSearch.id}')
  WHERE id = '${startSearch.id}';
  ANALYZE flight_offers;`;
execFileSync("psql", [db, "-q", "-v", "ON_ERROR_STOP=1", "-c", grow]);
({ job } = await gql(`query($id: UUID!) { job(id: $id) { status foundFlights } }`, { id: startSearch.id }, token));
console.log(`  the same search grown to ${job.foundFlights} offers; ${RUNS} requests each`);
for (const [name, query] of [["results tab", ""], ["calendar tab", "?tab=calendar"], ["price chart tab", "?tab=chart"], ["results sorted by stops", "?sort=stops"]]) {
  const times = timeToFirstByte(`${url}${query}`, { quiet: true });
  console.log(`  ${name}: first byte median ${median(times).toFixed(1)} ms (min ${Math.min(...times).toFixed(1)}, max ${Math.max(...times).toFixed(1)}); whole page median ${median(whole).toFixed(1)} ms (min ${Math.min(...whole).toFixed(1)}, max ${Math.max(...whole).toFixed(1)})`);
}
finished = true;
process.exit(0);
