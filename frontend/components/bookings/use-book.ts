"use client";

import { useMutation } from "@apollo/client/react";
import { CombinedGraphQLErrors } from "@apollo/client/errors";
import type { ApolloCache, Reference } from "@apollo/client";

import type { BookingItemFragment as BookingItem, PassengerInput } from "@/gql/graphql";
import { exponent, money } from "@/lib/format";

import { BookFlight, BookingItemFragment } from "./fragments";

/** What the booking form knows of the offer it books. */
export type BookableOffer = {
  id: string;
  origin: string;
  destination: string;
  departureAt: string;
  returnDepartureAt?: string | null;
  carrier: string;
  flightNumbers: string[];
  /** When listed: outbound and return flight numbers are shown apart. */
  segments?: { direction: "OUTBOUND" | "RETURN"; flightNumber: string }[] | null;
  price: { amount: string; currency: string; minorUnits: number };
};

/** Why a booking was not made, in words a traveller reads; `newPrice` when the price moved. */
export type BookingProblem = { code: string; text: string; newPrice?: { amount: string; currency: string; minorUnits: number } };

export function describeProblem(code: string | null | undefined, message: string, newPrice?: BookingProblem["newPrice"] | null): string {
  switch (code) {
    case "SOLD_OUT":
      return "Sorry — this flight just sold out. Nothing was booked.";
    case "OFFER_EXPIRED":
      return "This fare is no longer available. Nothing was booked; search again for a current price.";
    case "PRICE_CHANGED":
      return `The price changed to ${money(newPrice)}. Nothing was booked yet.`;
    case "PROVIDER_REFUSED":
    case "PROVIDER_FAILED":
      return `The airline could not book it (${message.replace(/^the provider could not book it: /, "")}). Nothing was booked.`;
    default:
      return message;
  }
}

/** `value` with the `__typename` Apollo's cache needs to normalise an optimistic answer. */
export function typed<T extends object>(typename: string, value: T): T {
  return { __typename: typename, ...value };
}

/** Puts a booking first in every cached `bookings` list that lacks it. */
function prepend(cache: ApolloCache, booking: BookingItem) {
  const ref = cache.writeFragment({
    fragment: BookingItemFragment,
    fragmentName: "BookingItem",
    data: typed("Booking", booking),
  });
  if (!ref) return;
  cache.modify({
    fields: {
      bookings(existing, { readField }) {
        const list = existing as { nodes?: readonly Reference[] } | undefined;
        if (!list?.nodes) return existing;
        if (list.nodes.some((n) => readField("id", n) === booking.id)) return existing;
        return { ...list, nodes: [ref, ...list.nodes] } as typeof existing;
      },
    },
  });
}

/**
 * Books an offer optimistically: the booking shows at once (as "booking…") in every list
 * of bookings on screen, becomes the server's answer when it comes, and is taken back if
 * the server refuses, with the reason in words.
 */
export function useBook() {
  const [mutate, state] = useMutation(BookFlight);
  const book = async (
    offer: BookableOffer,
    passengers: PassengerInput[],
    options: { key: string; jobId: string; expectedPriceMinor?: number },
  ): Promise<{ booking?: BookingItem; problem?: BookingProblem }> => {
    const digits = exponent(offer.price.currency);
    const amountOf = (minor: number) => (minor / 10 ** digits).toFixed(digits);
    const price = options.expectedPriceMinor === undefined
      ? offer.price
      : { ...offer.price, minorUnits: options.expectedPriceMinor, amount: amountOf(options.expectedPriceMinor) };
    const optimistic: BookingItem = typed("Booking", {
      id: `optimistic-${options.key}`,
      jobId: options.jobId,
      status: "PENDING",
      seats: passengers.length,
      provider: "",
      providerReference: null,
      error: null,
      errorCode: null,
      idempotencyKey: options.key,
      createdAt: new Date().toISOString(),
      confirmedAt: null,
      cancelledAt: null,
      price: typed("Money", price),
      newPrice: null,
      passengers: passengers.map((p) => typed("Passenger", {
        givenName: p.givenName,
        familyName: p.familyName,
        bornOn: p.bornOn ?? null,
        email: p.email ?? null,
      })),
      offer: typed("FlightOffer", {
        id: offer.id,
        origin: offer.origin,
        destination: offer.destination,
        departureAt: offer.departureAt,
        returnDepartureAt: offer.returnDepartureAt ?? null,
        carrier: offer.carrier,
        flightNumbers: offer.flightNumbers,
      }),
    });
    try {
      const result = await mutate({
        variables: {
          input: {
            offerId: offer.id,
            passengers,
            idempotencyKey: options.key,
            expectedPriceMinor: options.expectedPriceMinor ?? null,
          },
        },
        optimisticResponse: { bookFlight: optimistic },
        update(cache, { data }) {
          if (data?.bookFlight) prepend(cache, data.bookFlight);
        },
      });
      return { booking: result.data?.bookFlight ?? undefined };
    } catch (error) {
      if (CombinedGraphQLErrors.is(error)) {
        const first = error.errors[0];
        const code = String(first?.extensions?.code ?? "");
        const newPrice = first?.extensions?.newPrice as { minorUnits: number; currency: string } | undefined;
        const withAmount = newPrice ? { ...newPrice, amount: amountOf(newPrice.minorUnits) } : undefined;
        return { problem: { code, text: describeProblem(code, first?.message ?? "", withAmount), newPrice: withAmount } };
      }
      return { problem: { code: "NETWORK", text: "The server did not answer. Nothing was booked; try again." } };
    }
  };
  return { book, booking: state.loading };
}
