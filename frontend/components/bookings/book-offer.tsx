"use client";

import { useId, useRef, useState } from "react";
import { toast } from "sonner";

import type { PassengerInput } from "@/gql/graphql";
import { flightNumbersByLeg } from "@/components/results/itinerary";
import { useFormat } from "@/lib/locale";

import { type BookableOffer, type BookingProblem, useBook } from "./use-book";

function newKey(): string {
  return typeof crypto !== "undefined" && "randomUUID" in crypto ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
}

/**
 * "Book" for one offer: a passenger form (one traveller per adult of the search) in a
 * dialog; the booking shows at once in the bookings on screen and the dialog closes. A
 * price that moved is shown, and booking again at it is one click.
 */
export function BookOffer({ offer, jobId, adults, label = "Book" }: { offer: BookableOffer; jobId: string; adults: number; label?: string }) {
  const f = useFormat();
  const dialog = useRef<HTMLDialogElement>(null);
  // The same offer may have two of these on a page (its row, and the best flight).
  const uid = useId();
  const [key, setKey] = useState(newKey);
  const [problem, setProblem] = useState<BookingProblem | null>(null);
  const [passengers, setPassengers] = useState<PassengerInput[]>(() =>
    Array.from({ length: adults }, () => ({ givenName: "", familyName: "", bornOn: null, email: null })),
  );
  const { book, booking } = useBook();

  const set = (i: number, field: keyof PassengerInput, value: string) =>
    setPassengers((all) => all.map((p, j) => (j === i ? { ...p, [field]: value === "" && field !== "givenName" && field !== "familyName" ? null : value } : p)));

  const submit = async (expectedPriceMinor?: number) => {
    setProblem(null);
    dialog.current?.close();
    const done = await book(offer, passengers, { key, jobId, expectedPriceMinor });
    // The next attempt is a new request: it gets a key of its own.
    setKey(newKey());
    if (done.problem) {
      if (done.problem.code === "PRICE_CHANGED" || done.problem.code === "BAD_USER_INPUT") {
        setProblem(done.problem);
        dialog.current?.showModal();
      } else {
        toast.error(done.problem.text);
      }
      return;
    }
    toast.success(done.booking?.status === "CONFIRMED" ? "Booked — confirmed." : "Booking… the airline is confirming it.");
  };

  return (
    <>
      <button type="button" className="secondary" disabled={booking} onClick={() => dialog.current?.showModal()}>
        {label}
      </button>
      <dialog ref={dialog} aria-labelledby={`book-${uid}`} className="panel">
        <form
          method="dialog"
          onSubmit={(e) => {
            e.preventDefault();
            void submit();
          }}
        >
          <h2 id={`book-${uid}`} style={{ marginTop: 0 }}>
            Book {offer.origin} → {offer.destination} for {f.money(offer.price)}
          </h2>
          <p className="muted">
            {offer.carrier} {flightNumbersByLeg(offer).outbound.join(" ")}
            {flightNumbersByLeg(offer).back.length ? ` · back ${flightNumbersByLeg(offer).back.join(" ")}` : ""} · {adults === 1 ? "1 passenger" : `${adults} passengers`}, price for all of them
          </p>
          {passengers.map((p, i) => (
            <fieldset key={i}>
              <legend>Passenger {i + 1}</legend>
              <div className="row">
                <div className="field">
                  <label htmlFor={`given-${uid}-${i}`}>Given name</label>
                  <input id={`given-${uid}-${i}`} required value={p.givenName} onChange={(e) => set(i, "givenName", e.target.value)} />
                </div>
                <div className="field">
                  <label htmlFor={`family-${uid}-${i}`}>Family name</label>
                  <input id={`family-${uid}-${i}`} required value={p.familyName} onChange={(e) => set(i, "familyName", e.target.value)} />
                </div>
                <div className="field">
                  <label htmlFor={`born-${uid}-${i}`}>Date of birth (optional)</label>
                  <input id={`born-${uid}-${i}`} type="date" value={p.bornOn ?? ""} onChange={(e) => set(i, "bornOn", e.target.value)} />
                </div>
                {i === 0 ? (
                  <div className="field">
                    <label htmlFor={`email-${uid}-${i}`}>Email (optional)</label>
                    <input id={`email-${uid}-${i}`} type="email" value={p.email ?? ""} onChange={(e) => set(i, "email", e.target.value)} />
                  </div>
                ) : null}
              </div>
            </fieldset>
          ))}
          {problem ? <p className="form-error" role="alert">{problem.text}</p> : null}
          <div className="row">
            {problem?.code === "PRICE_CHANGED" && problem.newPrice ? (
              <button type="button" onClick={() => void submit(problem.newPrice?.minorUnits)}>
                Book at {f.money(problem.newPrice)}
              </button>
            ) : (
              <button type="submit" disabled={booking}>Book for {f.money(offer.price)}</button>
            )}
            <button type="button" className="secondary" onClick={() => { setProblem(null); dialog.current?.close(); }}>
              Close
            </button>
          </div>
        </form>
      </dialog>
    </>
  );
}
