// graphile-worker's no-op job rate: the peer `just bench engine` compares the engine with.
//
//   node bench/graphile-worker/noop.mjs DATABASE_URL [JOBS] [CONCURRENCY]
//
// Migrates graphile-worker's schema into DATABASE_URL (a fresh database), queues JOBS
// no-op jobs (20,000 by default) in one statement, then runs a worker with CONCURRENCY
// (16 by default, the engine's task window) until every job completed. Prints one line:
// `graphile-worker <version>: N jobs in S s = R jobs/s`. The queueing is not timed.
import { readFileSync } from "node:fs";
import pg from "pg";
import { run, runMigrations } from "graphile-worker";

const [connectionString, jobsArg, concurrencyArg] = process.argv.slice(2);
if (!connectionString) {
  console.error("usage: noop.mjs DATABASE_URL [JOBS] [CONCURRENCY]");
  process.exit(2);
}
const jobs = Number(jobsArg ?? 20000);
const concurrency = Number(concurrencyArg ?? 16);
const version = JSON.parse(
  readFileSync(new URL("node_modules/graphile-worker/package.json", import.meta.url)),
).version;

await runMigrations({ connectionString, logger: quietLogger() });
const client = new pg.Client({ connectionString });
await client.connect();
await client.query(
  "SELECT graphile_worker.add_job('noop', json_build_object('i', i)) FROM generate_series(1, $1) i",
  [jobs],
);

let done = 0;
let failed = 0;
let finished;
const allDone = new Promise((resolve) => (finished = resolve));
const runner = await run({
  connectionString,
  concurrency,
  maxPoolSize: concurrency + 2,
  noHandleSignals: true,
  logger: quietLogger(),
  taskList: { noop: async () => {} },
});
const started = process.hrtime.bigint();
runner.events.on("job:success", () => {
  if (++done === jobs) finished();
});
runner.events.on("job:error", () => {
  failed += 1;
});
await allDone;
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
await runner.stop();
const left = await client.query("SELECT count(*)::int AS n FROM graphile_worker.jobs");
await client.end();
if (failed > 0 || left.rows[0].n !== 0) {
  console.error(`graphile-worker: ${failed} jobs failed, ${left.rows[0].n} left in the queue`);
  process.exit(1);
}
console.log(
  `graphile-worker ${version}: ${jobs} jobs in ${seconds.toFixed(2)} s = ${Math.round(jobs / seconds)} jobs/s`,
);

function quietLogger() {
  // Only warnings and errors; graphile-worker logs every worker start otherwise.
  return {
    scope: () => quietLogger(),
    debug() {},
    info() {},
    warn: (m) => console.error(m),
    error: (m) => console.error(m),
  };
}
