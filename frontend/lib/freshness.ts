/**
 * Answers can arrive out of order: a mutation's HTTP answer after the progress event that
 * followed it on the websocket, or an event read before a pause after the pause's answer.
 * Written as they come, the older one would undo the newer (a paused search showing
 * "Pausing…" for good). So each search's newest `updatedAt` is remembered, and an older
 * answer's plain values are replaced by the newest ones seen before it reaches the cache.
 */
type Stamp = { at: number; micros: number };
type Seen = { stamp: Stamp; values: Map<string, unknown> };

const newest = new Map<string, Seen>();

function stampOf(value: string): Stamp | null {
  const at = Date.parse(value);
  if (Number.isNaN(at)) return null;
  // Date.parse keeps milliseconds; the server's timestamps have microseconds.
  const fraction = /\.(\d+)/.exec(value)?.[1] ?? "";
  return { at, micros: Number(fraction.padEnd(6, "0").slice(3, 6)) };
}

const older = (a: Stamp, b: Stamp) => a.at < b.at || (a.at === b.at && a.micros < b.micros);
const plain = (v: unknown) => v === null || typeof v !== "object";

function visit(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(visit);
  if (node === null || typeof node !== "object") return node;
  const object: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) object[key] = visit(value);
  if (object.__typename !== "SearchJob" || typeof object.id !== "string" || typeof object.updatedAt !== "string") {
    return object;
  }
  const stamp = stampOf(object.updatedAt);
  if (!stamp) return object;
  const seen = newest.get(object.id);
  if (seen && older(stamp, seen.stamp)) {
    for (const key of Object.keys(object)) {
      if (plain(object[key]) && seen.values.has(key)) object[key] = seen.values.get(key);
    }
    return object;
  }
  const values = seen && !older(seen.stamp, stamp) ? seen.values : new Map<string, unknown>();
  if (seen && values !== seen.values) {
    // Fields this answer does not carry keep their newest known values.
    for (const [key, value] of seen.values) values.set(key, value);
  }
  for (const [key, value] of Object.entries(object)) if (plain(value)) values.set(key, value);
  newest.set(object.id, { stamp, values });
  return object;
}

/** `result` with any search older than one already seen brought up to date. */
export function keepFreshest<T extends { data?: unknown }>(result: T): T {
  if (!result.data) return result;
  return { ...result, data: visit(result.data) };
}

/** For tests and sign-out: forget what was seen. */
export function forgetFreshness() {
  newest.clear();
}
