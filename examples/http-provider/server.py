#!/usr/bin/env python3
"""An example fast-flights `http` provider: serves fares from a CSV file.

Standard library only. Speaks the contract in docs/providers.md ("The `http` contract"),
and can misbehave on purpose (--fault) so tests can exercise retries and error handling.
"""
import argparse
import csv
import hashlib
import json
import random
import re
import signal
import sys
import threading
import time
from collections import defaultdict
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

CABINS = ("ECONOMY", "PREMIUM_ECONOMY", "BUSINESS", "FIRST")
CODE = re.compile(r"^[A-Z]{3}$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
COLUMNS = ("origin", "destination", "carrier", "flight_number", "departs_local", "origin_utc_offset",
           "duration_minutes", "destination_utc_offset", "weekdays", "price_minor", "currency", "cabin")
MAX_BODY = 1 << 20  # bytes
MAX_SPAN = 366  # days in a departure window, and most nights


def parse_offset(text):
    """'+07:00' -> a fixed-offset timezone (also takes '+0700' and 'Z')."""
    return datetime.strptime(text, "%z").tzinfo


def load_fares(path):
    """Rows indexed by (origin, destination); exits naming the line of a bad row."""
    fares = defaultdict(list)
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            sys.exit(f"{path}: header lacks column(s) {', '.join(missing)}")
        for line, row in enumerate(reader, start=2):
            try:
                row = {k: (row[k] or "").strip() for k in COLUMNS}
                fare = dict(row, departs=datetime.strptime(row["departs_local"], "%H:%M").time(),
                            weekdays={int(d) for d in row["weekdays"]}, price=int(row["price_minor"]),
                            duration=timedelta(minutes=int(row["duration_minutes"])),
                            origin_tz=parse_offset(row["origin_utc_offset"]),
                            destination_tz=parse_offset(row["destination_utc_offset"]))
                if not fare["weekdays"] or not fare["weekdays"] <= set(range(1, 8)):
                    raise ValueError("weekdays must be ISO weekday digits 1-7")
                if fare["price"] < 0 or fare["duration"] <= timedelta(0) or fare["cabin"] not in CABINS:
                    raise ValueError("need price_minor >= 0, duration_minutes > 0 and a known cabin")
            except ValueError as e:
                sys.exit(f"{path}:{line}: {e}")
            fares[(fare["origin"], fare["destination"])].append(fare)
    return fares


def flight(fare, day, direction):
    """`fare` flown on local date `day`: (departure, arrival, segment JSON)."""
    departs = datetime.combine(day, fare["departs"], tzinfo=fare["origin_tz"])
    arrives = (departs + fare["duration"]).astimezone(fare["destination_tz"])
    return departs, arrives, {
        "direction": direction,
        "carrier": fare["carrier"],
        "flightNumber": fare["flight_number"],
        "origin": fare["origin"],
        "destination": fare["destination"],
        "departureAt": departs.isoformat(),
        "arrivalAt": arrives.isoformat(),
    }


class BadRequest(Exception):
    pass


def field(body, name, check, what):
    if not isinstance(body, dict):
        raise BadRequest("body must be a JSON object")
    if name not in body:
        raise BadRequest(f"missing field {name!r}")
    value = body[name]
    if not check(value):
        raise BadRequest(f"field {name!r} must be {what}, got {json.dumps(value)[:60]}")
    return value


def is_int(v, low=0, high=None):
    return type(v) is int and v >= low and (high is None or v <= high)


def is_code(v):
    return isinstance(v, str) and bool(CODE.match(v))


def parse_day(body, name):
    text = field(body, name, lambda v: isinstance(v, str) and DATE.match(v), "a YYYY-MM-DD date")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadRequest(f"field {name!r} is not a calendar date: {text!r}") from None


def parse_search(body):
    q = {
        "origin": field(body, "origin", is_code, "an IATA airport code"),
        "destinations": field(
            body, "destinations",
            lambda v: isinstance(v, list) and v and all(is_code(d) for d in v),
            "a non-empty list of IATA airport codes"),
        "from": parse_day(body, "departureFrom"),
        "to": parse_day(body, "departureTo"),
        "adults": field(body, "adults", lambda v: is_int(v, 1, 9), "an integer 1-9"),
        "cabin": field(body, "cabin", lambda v: v in CABINS, "one of " + ", ".join(CABINS)),
        "maxStops": field(body, "maxStops", lambda v: v is None or is_int(v), "null or an integer >= 0"),
        "currency": field(body, "currency", is_code, "an ISO 4217 code"),
    }
    if q["to"] < q["from"]:
        raise BadRequest("departureTo is before departureFrom")
    if (q["to"] - q["from"]).days >= MAX_SPAN or q["to"].year > 9000:
        raise BadRequest(f"departure window longer than {MAX_SPAN} days or too far ahead")
    nights = field(body, "nights", lambda v: v is None or isinstance(v, dict), "null or {min, max}")
    if nights is not None:
        lo = field(nights, "min", lambda v: is_int(v, 0, MAX_SPAN), f"an integer 0-{MAX_SPAN}")
        hi = field(nights, "max", lambda v: is_int(v, 0, MAX_SPAN), f"an integer 0-{MAX_SPAN}")
        if hi < lo:
            raise BadRequest("nights.max is below nights.min")
        nights = range(lo, hi + 1)
    q["nights"] = nights
    cap = field(body, "maxPrice", lambda v: v is None or isinstance(v, dict), "null or a Money object")
    if cap is not None:
        field(cap, "amountMinor", is_int, "an integer >= 0")
        if field(cap, "currency", is_code, "an ISO 4217 code") != q["currency"]:
            raise BadRequest("maxPrice.currency differs from currency")
        cap = cap["amountMinor"]
    q["maxPrice"] = cap
    return q


def search(fares, q, base_url):
    offers = []
    stops = 0  # every CSV flight is non-stop

    def rows(origin, destination, day):
        return [f for f in fares.get((origin, destination), ())
                if day.isoweekday() in f["weekdays"]
                and f["cabin"] == q["cabin"] and f["currency"] == q["currency"]]

    def offer(oid, price, first_departure, segments):
        total = price * q["adults"]
        if (q["maxStops"] is not None and stops > q["maxStops"]) or \
                (q["maxPrice"] is not None and total > q["maxPrice"]):
            return
        offers.append({
            "id": oid,
            "price": {"amountMinor": total, "currency": q["currency"]},
            "cabin": q["cabin"],
            "segments": segments,
            "expiresAt": (first_departure - timedelta(days=1)).isoformat(),
            "deepLink": f"{base_url}/offers/{oid}",
            "bookingToken": f"tok-{oid}",
            "fareBasis": "Y1",
        })

    origin = q["origin"]
    for destination in dict.fromkeys(q["destinations"]):  # de-duplicated, in order
        day = q["from"]
        while day <= q["to"]:
            for out in rows(origin, destination, day):
                out_dep, out_arr, out_seg = flight(out, day, "OUTBOUND")
                out_id = f"{out['flight_number']}-{day:%Y%m%d}"
                if q["nights"] is None:
                    offer(out_id, out["price"], out_dep, [out_seg])
                    continue
                for n in q["nights"]:
                    back = day + timedelta(days=n)
                    for ret in rows(destination, origin, back):
                        ret_dep, _, ret_seg = flight(ret, back, "RETURN")
                        if ret_dep < out_arr:  # cannot fly home before landing
                            continue
                        offer(f"{out_id}-{ret['flight_number']}-{back:%Y%m%d}",
                              out["price"] + ret["price"], out_dep, [out_seg, ret_seg])
            day += timedelta(days=1)
    return offers


def parse_book(body):
    """A BookRequest, checked: (offer id, adults, idempotency key, expected price)."""
    offer_id = field(body, "offerId", lambda v: isinstance(v, str) and v, "a non-empty string")
    field(body, "bookingToken", lambda v: v is None or isinstance(v, str), "null or a string")
    adults = field(body, "adults", lambda v: is_int(v, 1), "an integer >= 1")
    key = field(body, "idempotencyKey", lambda v: isinstance(v, str) and 0 < len(v) <= 400,
                "a string of 1-400 characters")
    passengers = field(body, "passengers", lambda v: isinstance(v, list) and len(v) == adults,
                       f"a list of {adults} passenger(s)")
    for i, pax in enumerate(passengers):
        for name in ("givenName", "familyName"):
            if not (isinstance(pax, dict) and isinstance(pax.get(name), str) and pax[name].strip()):
                raise BadRequest(f"passengers[{i}].{name}: must be a non-empty string")
    price = field(body, "expectedPrice", lambda v: isinstance(v, dict), "an object")
    amount = field(price, "amountMinor", lambda v: is_int(v, 0), "an integer >= 0")
    currency = field(price, "currency", lambda v: isinstance(v, str) and CODE.match(v), "an ISO 4217 code")
    return offer_id, adults, key, (amount, currency)


def current_price(fares_by_number, offer_id, adults, reprice_percent):
    """What the offer costs now, for all passengers: its flights' fares, moved by --reprice-percent.
    None when the id names no flight of the CSV."""
    parts = offer_id.split("-")
    if len(parts) not in (2, 4):
        return None
    numbers = parts[0::2]
    fares = [fares_by_number.get(n) for n in numbers]
    if any(f is None for f in fares):
        return None
    per_adult = sum(f["price"] for f in fares)
    return per_adult * adults * (100 + reprice_percent) // 100, fares[0]["currency"]


def reference_of(key):
    digest = hashlib.sha256(key.encode()).digest()
    return "".join(chr(ord("A") + b % 26) for b in digest[:6])


class State:
    """What the handler threads share; every change happens under `lock`."""

    def __init__(self, args, fares, base_url):
        self.args, self.fares, self.base_url = args, fares, base_url
        self.lock = threading.Lock()
        self.rng = random.Random(args.seed)
        self.seen_bodies = set()
        self.stats = dict.fromkeys(
            ("requests", "search", "ok", "status_429", "status_500", "malformed", "slow", "unauthorized",
             "book_calls", "bookings"), 0)
        self.fares_by_number = {f["flight_number"]: f for rows in fares.values() for f in rows}
        self.booked = {}  # idempotency key -> (offer id, reference)
        self.hung = set()  # keys whose first answer --fault book-hang held back

    def count(self, *keys):
        with self.lock:
            for key in keys:
                self.stats[key] += 1


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: every answer carries Content-Length
    disable_nagle_algorithm = True  # headers and body go out in two writes
    state = None  # set by main()

    def log_message(self, fmt, *args):
        if self.state.args.verbose:
            super().log_message(fmt, *args)

    def send_json(self, status, payload, headers=(), raw=None):
        body = raw if raw is not None else json.dumps(payload).encode()
        if status == 500:
            self.state.count("status_500")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.guarded(self.route_get)

    def do_POST(self):
        self.guarded(self.route_post)

    def guarded(self, route):
        try:
            route()
        except (ConnectionError, TimeoutError):
            self.close_connection = True
        except Exception as e:  # never let bad input take the server down
            self.close_connection = True
            self.send_json(500, {"error": f"internal error: {type(e).__name__}: {e}"[:200]})

    def route_get(self):
        path = self.path.split("?", 1)[0]
        if path == "/health":
            self.send_json(200, {"status": "ok"})
        elif path == "/stats":
            with self.state.lock:
                stats = dict(self.state.stats)
            self.send_json(200, stats)
        elif path in ("/search", "/book"):
            self.send_json(405, {"error": "use POST"}, headers=[("Allow", "POST")])
        else:
            self.send_json(404, {"error": "no such path"})

    def route_post(self):
        # Read exactly Content-Length bytes, always, so a kept-alive connection stays in step.
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY or "Transfer-Encoding" in self.headers:
            self.close_connection = True
            return self.send_json(400, {"error": f"need a Content-Length of 0-{MAX_BODY} bytes"})
        raw = self.rfile.read(length)
        path, st = self.path.split("?", 1)[0], self.state
        if path not in ("/search", "/book"):
            return self.send_json(404, {"error": "no such path"})
        st.count("requests", *(("search",) if path == "/search" else ()))
        if st.args.api_key is not None and \
                self.headers.get("Authorization") != f"Bearer {st.args.api_key}":
            st.count("unauthorized")
            return self.send_json(401, {"error": "bad or missing API key"})
        if path == "/search" and self.inject_fault(raw):
            return
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError) as e:  # bad JSON, bad UTF-8, absurd nesting
            return self.send_json(400, {"error": f"body is not valid JSON: {e}"})
        try:
            if path == "/book":
                return self.book(parse_book(body))
            offers = search(st.fares, parse_search(body), st.base_url)
        except BadRequest as e:
            return self.send_json(400, {"error": str(e)})
        st.count("ok")
        self.send_json(200, {"offers": offers})

    def book(self, request):
        """Books once per idempotency key: the same key again answers the same reference."""
        st = self.state
        offer_id, adults, key, expected = request
        now = current_price(st.fares_by_number, offer_id, adults, st.args.reprice_percent)
        if now is None:
            return self.send_json(410, {"error": f"no offer {offer_id}"})
        with st.lock:
            st.stats["book_calls"] += 1
            if key in st.booked:
                booked_offer, reference = st.booked[key]
                if booked_offer != offer_id:
                    return self.send_json(422, {"error": "idempotency key used for another offer"})
                return self.send_json(200, {"reference": reference})
            if expected != now:
                return self.send_json(409, {"error": "price changed",
                                            "currentPrice": {"amountMinor": now[0], "currency": now[1]}})
            reference = reference_of(key)
            st.booked[key] = (offer_id, reference)
            st.stats["bookings"] += 1
            hang = st.args.fault == "book-hang" and key not in st.hung
            st.hung.add(key)
        if hang:  # booked, but the answer is held back: the caller may die waiting
            time.sleep(st.args.delay_ms / 1000)
        return self.send_json(200, {"reference": reference})

    def inject_fault(self, raw):
        """Misbehaves as --fault says; True when that answered the request."""
        st, mode = self.state, self.state.args.fault
        if mode == "malformed":
            st.count("malformed")
            self.send_json(200, None, raw=b'{"offers": [')
            return True
        if mode == "429":
            with st.lock:
                first = raw not in st.seen_bodies
                st.seen_bodies.add(raw)
            if first:
                st.count("status_429")
                self.send_json(429, {"error": "slow down"}, headers=[("Retry-After", str(st.args.retry_after))])
                return True
        if mode == "slow":
            st.count("slow")
            time.sleep(st.args.delay_ms / 1000)
        fail = mode == "500"
        if mode == "flaky":
            with st.lock:
                fail = st.rng.random() < st.args.fail_rate
        if fail:
            self.send_json(500, {"error": "simulated outage"})
        return fail


class Server(ThreadingHTTPServer):
    daemon_threads = True  # a slow answer in flight does not hold up exit


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8090, help="port; 0 picks a free one (default 8090)")
    p.add_argument("--fares", type=Path, default=Path(__file__).resolve().parent / "fares.csv",
                   help="fares CSV (default: fares.csv next to this script)")
    p.add_argument("--api-key", help="require 'Authorization: Bearer KEY' on /search and /book")
    p.add_argument("--fault", default="none",
                   choices=("none", "malformed", "500", "429", "slow", "flaky", "book-hang"),
                   help="misbehave on purpose on /search; book-hang: book, then hold the first "
                        "answer to each booking for --delay-ms (default none)")
    p.add_argument("--reprice-percent", type=int, default=0,
                   help="/book: offers now cost this many percent more than /search said, "
                        "so bookings at the old price get 409 with the current price (default 0)")
    p.add_argument("--retry-after", type=int, default=1, help="Retry-After seconds for --fault 429 (default 1)")
    p.add_argument("--delay-ms", type=int, default=3000,
                   help="delay for --fault slow and book-hang (default 3000)")
    p.add_argument("--fail-rate", type=float, default=0.3, help="share of 500s for --fault flaky (default 0.3)")
    p.add_argument("--seed", type=int, default=1, help="random seed for --fault flaky (default 1)")
    p.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = p.parse_args()

    fares = load_fares(args.fares)
    server = Server((args.host, args.port), Handler)
    base_url = f"http://{args.host}:{server.server_address[1]}"
    Handler.state = State(args, fares, base_url)

    def stop(signum, frame):
        for sig in (signal.SIGTERM, signal.SIGINT):  # a second signal must not kill us mid-exit
            signal.signal(sig, signal.SIG_IGN)
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"listening on {base_url}", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
