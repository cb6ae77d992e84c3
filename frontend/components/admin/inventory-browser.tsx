"use client";

import { useMutation, useQuery } from "@apollo/client/react";
import { CombinedGraphQLErrors } from "@apollo/client/errors";
import { useState, type FormEvent } from "react";
import { toast } from "sonner";

import { graphql } from "@/gql";
import type { Cabin, InventoryFilter, InventoryQuery } from "@/gql/graphql";
import { duration, exponent, localTime, money } from "@/lib/format";
import { fieldErrors } from "@/lib/graphql-errors";

import { Inventory } from "./documents";

const Upsert = graphql(`
  mutation UpsertInventoryFlight($input: InventoryFlightInput!) {
    upsertInventoryFlight(input: $input) { id flightNumber seatsAvailable price { amount currency minorUnits } }
  }
`);
const Delete = graphql(`
  mutation DeleteInventoryFlight($id: UUID!) { deleteInventoryFlight(id: $id) }
`);

type Flight = InventoryQuery["inventory"]["nodes"][number];

/** Add or change one flight; the API checks it as it checks a CSV row. */
function FlightEditor({ flight, onDone }: { flight: Flight | null; onDone: () => void }) {
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [upsert, { loading }] = useMutation(Upsert);
  const [removeOld] = useMutation(Delete);
  const local = (iso?: string) => (iso ? iso.slice(0, 16) : "");
  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const currency = String(form.get("currency")).toUpperCase();
    const available = String(form.get("seatsAvailable") ?? "").trim();
    const blank = (name: string) => String(form.get(name) ?? "").trim() === "";
    const missing: Record<string, string> = {};
    if (blank("price")) missing.price = "give a price per seat (0 for a free seat)";
    if (blank("seatsTotal")) missing.seatsTotal = "give the number of seats";
    if (Object.keys(missing).length > 0) {
      setErrors(missing);
      return;
    }
    try {
      const saved = await upsert({
        variables: {
          input: {
            flightNumber: String(form.get("flightNumber")),
            airline: String(form.get("airline")),
            origin: String(form.get("origin")),
            destination: String(form.get("destination")),
            departure: String(form.get("departure")),
            arrival: String(form.get("arrival")),
            cabin: String(form.get("cabin")) as Cabin,
            price: Math.round(Number(form.get("price")) * 10 ** exponent(currency)),
            currency,
            seatsTotal: Number(form.get("seatsTotal")),
            seatsAvailable: available === "" ? null : Number(available),
          },
        },
      });
      // A flight is its number and departure: an edit that changes either saves it anew,
      // so the old one goes, as an edit means.
      const savedId = saved.data?.upsertInventoryFlight.id;
      if (flight && savedId && savedId !== flight.id) {
        try {
          await removeOld({ variables: { id: flight.id } });
        } catch {
          toast.error(`Saved as a new flight; the old ${flight.flightNumber} could not be removed`);
          onDone();
          return;
        }
      }
      toast.success("Flight saved");
      onDone();
    } catch (error) {
      const byField = CombinedGraphQLErrors.is(error) ? fieldErrors(error.errors) : { "": "the server did not answer" };
      // "input.departure" → "departure"
      setErrors(Object.fromEntries(Object.entries(byField).map(([k, v]) => [k.replace(/^input\./, ""), v])));
    }
  }
  const field = (name: string, label: string, props: Record<string, unknown> = {}) => (
    <div className="field">
      <label htmlFor={`edit-${name}`}>{label}</label>
      <input id={`edit-${name}`} name={name} type="text" {...props} aria-invalid={Boolean(errors[name])} />
      {errors[name] ? <div className="field-error" role="alert">{errors[name]}</div> : null}
    </div>
  );
  const [whole, cents] = flight ? [flight.price.amount, flight.price.currency] : ["", "EUR"];
  return (
    <form className="panel" onSubmit={submit} aria-label={flight ? `Edit ${flight.flightNumber}` : "Add a flight"}>
      <h2 style={{ marginTop: 0 }}>{flight ? `Edit ${flight.flightNumber}` : "Add a flight"}</h2>
      <p className="muted">
        Times are local to each airport. A flight is its number and departure: adding one that exists replaces it.
      </p>
      <div className="grid">
        {field("flightNumber", "Flight number", { defaultValue: flight?.flightNumber })}
        {field("airline", "Airline", { defaultValue: flight?.airline })}
        {field("origin", "From (airport)", { defaultValue: flight?.origin })}
        {field("destination", "To (airport)", { defaultValue: flight?.destination })}
        {field("departure", "Departure (local)", { type: "datetime-local", defaultValue: local(flight?.departureAt) })}
        {field("arrival", "Arrival (local)", { type: "datetime-local", defaultValue: local(flight?.arrivalAt) })}
        <div className="field">
          <label htmlFor="edit-cabin">Cabin</label>
          <select id="edit-cabin" name="cabin" defaultValue={flight?.cabin ?? "ECONOMY"}>
            <option value="ECONOMY">Economy</option>
            <option value="PREMIUM_ECONOMY">Premium economy</option>
            <option value="BUSINESS">Business</option>
            <option value="FIRST">First</option>
          </select>
        </div>
        {field("price", "Price per seat", { type: "number", step: "any", min: "0", defaultValue: whole })}
        {field("currency", "Currency", { defaultValue: cents })}
        {field("seatsTotal", "Seats", { type: "number", min: "0", defaultValue: flight?.seatsTotal })}
        {field("seatsAvailable", "Seats left", { type: "number", min: "0", defaultValue: flight?.seatsAvailable })}
      </div>
      {errors[""] ? <p className="form-error" role="alert">{errors[""]}</p> : null}
      <div className="row" style={{ marginTop: "0.75rem" }}>
        <button type="submit" disabled={loading}>Save</button>
        <button type="button" className="secondary" onClick={onDone}>Close</button>
      </div>
    </form>
  );
}

/** The catalogue, by departure, with filters and pages; edit or delete a flight. */
export function InventoryBrowser() {
  const [filter, setFilter] = useState<InventoryFilter>({});
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [editing, setEditing] = useState<Flight | null | undefined>(undefined);
  const { data, previousData, loading, error, refetch } = useQuery(Inventory, {
    variables: { filter, first: 25, after: cursors[cursors.length - 1] },
  });
  const [remove] = useMutation(Delete);
  const page = (data ?? previousData)?.inventory;
  return (
    <>
      <form
        className="panel row"
        aria-label="Filter the catalogue"
        onSubmit={(e) => {
          e.preventDefault();
          const f = new FormData(e.currentTarget);
          const text = (k: string) => String(f.get(k) ?? "").trim() || null;
          setFilter({ origin: text("origin"), destination: text("destination"), airline: text("airline"), flightNumber: text("flightNumber"), departureFrom: text("from"), departureTo: text("to") });
          setCursors([null]);
        }}
      >
        <div className="field"><label htmlFor="inv-origin">From</label><input id="inv-origin" name="origin" type="text" /></div>
        <div className="field"><label htmlFor="inv-destination">To</label><input id="inv-destination" name="destination" type="text" /></div>
        <div className="field"><label htmlFor="inv-airline">Airline</label><input id="inv-airline" name="airline" type="text" /></div>
        <div className="field"><label htmlFor="inv-flight">Flight</label><input id="inv-flight" name="flightNumber" type="text" /></div>
        <div className="field"><label htmlFor="inv-from">Departing from</label><input id="inv-from" name="from" type="date" /></div>
        <div className="field"><label htmlFor="inv-to">Departing until</label><input id="inv-to" name="to" type="date" /></div>
        <button type="submit" className="secondary">Filter</button>
        <button type="button" onClick={() => setEditing(null)}>Add a flight</button>
      </form>
      {editing !== undefined ? (
        <FlightEditor key={editing?.id ?? "new"} flight={editing} onDone={() => { setEditing(undefined); void refetch().catch(() => {}); }} />
      ) : null}
      {error ? <p className="form-error" role="alert">{error.message}</p> : null}
      <div className="panel table-wrap" aria-busy={loading}>
        <table>
          <thead>
            <tr>
              <th scope="col">Flight</th><th scope="col">Route</th><th scope="col">Departure</th><th scope="col">Arrival</th>
              <th scope="col">Cabin</th><th scope="col">Price</th><th scope="col">Seats left</th><th scope="col"><span className="muted">Actions</span></th>
            </tr>
          </thead>
          <tbody>
            {page?.nodes.length ? page.nodes.map((f) => (
              <tr key={f.id} data-testid="inventory-row">
                <td>{f.flightNumber}</td>
                <td>{f.origin} → {f.destination}</td>
                <td>{localTime(f.departureAt)}</td>
                <td>{localTime(f.arrivalAt)} <span className="muted">({duration(f.durationMinutes)})</span></td>
                <td>{f.cabin.replace("_", " ").toLowerCase()}</td>
                <td>{money(f.price)}</td>
                <td>{f.seatsAvailable} / {f.seatsTotal}</td>
                <td>
                  <button
                    type="button"
                    className="link-button"
                    aria-label={`Edit ${f.flightNumber} on ${f.departureDate}`}
                    onClick={() => setEditing(f)}
                  >
                    Edit
                  </button>{" "}
                  <button
                    type="button"
                    className="link-button"
                    aria-label={`Delete ${f.flightNumber} on ${f.departureDate}`}
                    onClick={async () => {
                      if (!window.confirm(`Delete ${f.flightNumber} on ${f.departureDate}?`)) return;
                      try {
                        await remove({ variables: { id: f.id } });
                        toast.success(`${f.flightNumber} deleted`);
                        void refetch().catch(() => {});
                      } catch {
                        toast.error("It could not be deleted");
                      }
                    }}
                  >
                    Delete
                  </button>
                </td>
              </tr>
            )) : <tr><td colSpan={8} className="muted">{loading ? "Loading…" : "No flights."}</td></tr>}
          </tbody>
        </table>
        <div className="row" style={{ marginTop: "0.5rem" }}>
          <button type="button" className="secondary" disabled={cursors.length < 2} onClick={() => setCursors(cursors.slice(0, -1))}>Previous page</button>
          <button type="button" className="secondary" disabled={!page?.pageInfo.hasNextPage}
            onClick={() => page?.pageInfo.endCursor && setCursors([...cursors, page.pageInfo.endCursor])}>Next page</button>
        </div>
      </div>
    </>
  );
}
