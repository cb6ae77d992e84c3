"use client";

import { useMutation } from "@apollo/client/react";
import { CombinedGraphQLErrors } from "@apollo/client/errors";
import { useState } from "react";
import { toast } from "sonner";

import type { BookingItemFragment as BookingItem } from "@/gql/graphql";
import { useFormat } from "@/lib/locale";

import { CancelBooking } from "./fragments";
import { describeProblem, typed, useBook } from "./use-book";

const STATUS_TEXT: Record<string, string> = {
  PENDING: "booking…",
  CONFIRMED: "confirmed",
  FAILED: "not booked",
  CANCELLED: "cancelled",
};

function newKey(): string {
  return typeof crypto !== "undefined" && "randomUUID" in crypto ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
}

function Actions({ booking, superseded }: { booking: BookingItem; superseded: boolean }) {
  const f = useFormat();
  const [cancel, cancelling] = useMutation(CancelBooking, {
    optimisticResponse: {
      cancelBooking: typed("Booking", { id: booking.id, status: "CANCELLED" as const, cancelledAt: new Date().toISOString() }),
    },
    onError: (error) => {
      const message = CombinedGraphQLErrors.is(error) ? error.errors.map((e) => e.message).join("; ") : "the server did not answer";
      toast.error(`The booking was not cancelled: ${message}`);
    },
  });
  const { book, booking: rebooking } = useBook();
  const [key] = useState(newKey);
  if (booking.status === "CONFIRMED") {
    return (
      <button
        type="button"
        className="danger"
        disabled={cancelling.loading}
        onClick={() => {
          if (window.confirm(`Cancel the booking ${booking.offer?.origin} → ${booking.offer?.destination}?`)) {
            void cancel({ variables: { id: booking.id } }).catch(() => {});
          }
        }}
      >
        Cancel booking
      </button>
    );
  }
  if (booking.status === "FAILED" && booking.errorCode === "PRICE_CHANGED" && booking.newPrice && booking.offer && !superseded) {
    const newPrice = booking.newPrice;
    const offer = booking.offer;
    return (
      <button
        type="button"
        disabled={rebooking}
        onClick={async () => {
          const done = await book(
            { ...offer, price: booking.price },
            booking.passengers.map((p) => ({ givenName: p.givenName, familyName: p.familyName, bornOn: p.bornOn, email: p.email })),
            { key, jobId: booking.jobId, expectedPriceMinor: newPrice.minorUnits },
          );
          if (done.problem) toast.error(done.problem.text);
          else toast.success("Booking… the airline is confirming it.");
        }}
      >
        Book at {f.money(newPrice)}
      </button>
    );
  }
  return null;
}

/** Bookings, newest first, as they change: booking…, confirmed, not booked (and why), cancelled. */
export function BookingList({ bookings, showAccount = false }: { bookings: readonly (BookingItem & { accountId?: string })[]; showAccount?: boolean }) {
  const f = useFormat();
  if (bookings.length === 0) return <p className="muted">No bookings yet.</p>;
  return (
    <div className="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">Flight</th>
            <th scope="col">Departure</th>
            <th scope="col">Passengers</th>
            <th scope="col">Price</th>
            <th scope="col">Status</th>
            {showAccount ? <th scope="col">Account</th> : null}
            <th scope="col"><span className="visually-hidden">Actions</span></th>
          </tr>
        </thead>
        <tbody>
          {bookings.map((b) => (
            <tr key={b.id} data-testid="booking-row" data-status={b.status}>
              <td>
                {b.offer ? `${b.offer.origin} → ${b.offer.destination}` : "—"}{" "}
                <span className="muted">{b.offer ? `${b.offer.carrier} ${b.offer.flightNumbers.join(" ")}` : ""}</span>
              </td>
              <td>{b.offer ? f.localTime(b.offer.departureAt) : "—"}</td>
              <td>{b.passengers.map((p) => `${p.givenName} ${p.familyName}`).join(", ")}</td>
              <td>{f.money(b.price)}</td>
              <td>
                <span className={`status ${b.status === "CONFIRMED" ? "SUCCEEDED" : b.status === "PENDING" ? "RUNNING" : b.status}`} data-testid="booking-status">
                  {STATUS_TEXT[b.status] ?? b.status}
                </span>
                {b.status === "CONFIRMED" && b.providerReference ? <div className="muted">ref. {b.providerReference}</div> : null}
                {b.status === "FAILED" ? (
                  <div className="form-error" data-testid="booking-problem">{describeProblem(b.errorCode, b.error ?? "", b.newPrice)}</div>
                ) : null}
              </td>
              {showAccount ? <td className="muted">{b.accountId?.slice(0, 8)}</td> : null}
              <td>
                <Actions
                  booking={b}
                  // Booked again since (at the new price): the old offer to do so is gone.
                  superseded={bookings.some(
                    (o) => o.offer?.id === b.offer?.id && o.createdAt > b.createdAt && (o.status === "PENDING" || o.status === "CONFIRMED"),
                  )}
                />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
