"use client";

import { useEffect, useState } from "react";

import type { CalendarQuery, FlightsQuery, PriceHistoryQuery, SearchPageQuery } from "@/gql/graphql";
import { BookOffer } from "@/components/bookings/book-offer";
import { SearchBookings } from "@/components/bookings/my-bookings";
import { PriceCalendar } from "@/components/results/price-calendar";
import { PriceChart } from "@/components/results/price-chart";
import { ResultsTable } from "@/components/results/results-table";
import { type PageState, type Tab, readState, writeState } from "@/components/results/flight-params";
import { flightNumbersByLeg } from "@/components/results/itinerary";
import { duration, eta } from "@/lib/format";
import { useSeededQuery } from "@/lib/hooks";
import { useFormat } from "@/lib/locale";
import { useUrlState } from "@/lib/url-state";

import { SearchPage } from "./documents";
import { JobActions } from "./job-actions";
import { ProgressBar } from "./progress-bar";
import { SearchTools } from "./search-tools";
import { searchTitle, specSummary } from "./spec";
import { useLiveJob } from "./use-live-job";

/** A search's page: live progress, the best flight, results, calendar and price chart. */
export function SearchDetail({ id, initial }: {
  id: string;
  /** The calendar and the chart come with the page only when their tab is the one open. */
  initial: { page: SearchPageQuery; flights: FlightsQuery; calendar: CalendarQuery | null; history: PriceHistoryQuery | null };
}) {
  const { data } = useSeededQuery(SearchPage, { id }, initial.page);
  const job = (data ?? initial.page).job;
  const f = useFormat();
  const [state, setState] = useUrlState<PageState>(readState, writeState);
  const tab = state.tab;
  const setTab = (t: Tab) => setState({ tab: t });
  // What the server-rendered results, calendar and chart were read at.
  const [seededAt] = useState(() => ({
    found: initial.page.job?.foundFlights ?? 0,
    best: initial.page.job?.bestPrice?.minorUnits ?? null,
  }));
  useLiveJob(id, job?.status ?? "SUCCEEDED");
  const title = job ? searchTitle(job) : "Search";
  useEffect(() => {
    document.title = `${title} · fast-flights`;
  }, [title]);
  if (!job) return null;
  const best = job.bestOffer;
  const ended = ["SUCCEEDED", "FAILED", "CANCELLED"].includes(job.status);
  // The likeliest reasons an ended search found nothing.
  const reasons = [
    job.spec.maxPrice ? `nothing at or under the price cap of ${f.money(job.spec.maxPrice)}` : null,
    job.spec.maxStops != null ? (job.spec.maxStops === 0 ? "no direct flights" : `nothing with at most ${job.spec.maxStops} stops`) : null,
    job.failedTasks > 0 ? `${f.count(job.failedTasks)} provider queries failed` : null,
  ].filter((r): r is string => r !== null);
  const emptyReason = reasons.length > 0 ? reasons.join("; ") : null;
  const tabs: [Tab, string][] = [["results", "Results"], ["calendar", "Price calendar"], ["chart", "Price over time"]];
  return (
    <>
      <div className="row" style={{ justifyContent: "space-between", alignItems: "center" }}>
        <h1>{title}</h1>
        <JobActions job={job} />
      </div>
      <p className="muted summary" data-testid="spec-summary">{specSummary(job.spec, f.locale)}</p>
      <SearchTools job={job} title={title} />
      <section className="panel" aria-labelledby="progress-heading">
        <h2 id="progress-heading" style={{ marginTop: 0 }}>
          Progress <span className={`status ${job.status}`} data-testid="job-status">{job.status}</span>
        </h2>
        <ProgressBar percent={job.percent} label="Search progress" />
        <div className="stats" style={{ marginTop: "0.75rem" }}>
          <div className="stat"><div className="value" data-testid="percent">{job.percent.toFixed(1)}%</div><div className="label">done</div></div>
          <div className="stat"><div className="value">{f.count(job.completedTasks)} / {f.count(job.totalTasks)}</div><div className="label">provider queries</div></div>
          <div className="stat"><div className="value">{job.status === "RUNNING" ? job.tasksPerSecond.toFixed(1) : "—"}</div><div className="label">queries / s</div></div>
          <div className="stat"><div className="value">{job.status === "RUNNING" ? eta(job.etaSeconds) : "—"}</div><div className="label">time left</div></div>
          <div className="stat"><div className="value" data-testid="found">{f.count(job.foundFlights)}</div><div className="label">flights found</div></div>
          <div className="stat"><div className="value" data-testid="best-price">{f.money(job.bestPrice)}</div><div className="label">best price</div></div>
        </div>
        {job.failedTasks > 0 ? <p className="muted">{f.count(job.failedTasks)} queries failed after retries.</p> : null}
        {job.error ? <p className="form-error" role="alert">{job.error}</p> : null}
        {best ? (
          <div className="row" style={{ alignItems: "center" }}>
          <p data-testid="best-offer">
            {ended ? "Best price" : "Best so far"}: <strong>{f.money(best.price)}</strong> — {best.carrier} {flightNumbersByLeg(best).outbound.join(" ")}
            {flightNumbersByLeg(best).back.length ? ` · back ${flightNumbersByLeg(best).back.join(" ")}` : ""},{" "}
            {best.origin} → {best.destination}, leaves {f.localTime(best.departureAt)}
            {best.returnDepartureAt ? `, back ${f.localTime(best.returnDepartureAt)}` : ""}, {duration(best.durationMinutes)} of flying,{" "}
            {best.stops === 0 ? "direct" : `${best.stops} stop${best.stops > 1 ? "s" : ""}`}{" "}
            <a
              href={`?${writeState({ ...state, tab: "results", flight: best.id }).toString()}`}
              onClick={(e) => {
                e.preventDefault();
                setState({ tab: "results", flight: best.id });
                requestAnimationFrame(() => document.getElementById("results-heading")?.scrollIntoView({ block: "start" }));
              }}
            >
              details
            </a>
          </p>
          {/* Beside the paragraph, not in it: the booking dialog is a block of its own. */}
          <BookOffer offer={best} jobId={id} adults={job.spec.adults} label="Book the best flight" />
          </div>
        ) : null}
      </section>
      <SearchBookings jobId={id} />
      <div className="panel">
        <div className="tabs" role="tablist" aria-label="Views of the results">
          {tabs.map(([key, label]) => (
            <button
              key={key}
              type="button"
              role="tab"
              id={`tab-${key}`}
              aria-selected={tab === key}
              aria-controls={`panel-${key}`}
              tabIndex={tab === key ? 0 : -1}
              onClick={() => setTab(key)}
              onKeyDown={(e) => {
                const i = tabs.findIndex(([k]) => k === tab);
                const to = { ArrowRight: (i + 1) % tabs.length, ArrowLeft: (i + tabs.length - 1) % tabs.length, Home: 0, End: tabs.length - 1 }[e.key];
                if (to === undefined) return;
                e.preventDefault();
                setTab(tabs[to][0]);
                document.getElementById(`tab-${tabs[to][0]}`)?.focus();
              }}
            >
              {label}
            </button>
          ))}
        </div>
        {/* The results stay mounted while hidden, so their sort, filter and page survive a look at the calendar. */}
        <div role="tabpanel" id="panel-results" aria-labelledby="tab-results" hidden={tab !== "results"}>
          <ResultsTable
            jobId={id}
            currency={job.spec.currency}
            adults={job.spec.adults}
            foundFlights={job.foundFlights}
            seededAt={seededAt.found}
            updatedAt={job.updatedAt}
            origins={job.spec.origins}
            destinations={job.spec.destinations}
            roundTrip={Boolean(job.spec.nights)}
            initial={initial.flights}
            ended={ended}
            emptyReason={emptyReason}
            state={state}
            setState={setState}
          />
        </div>
        {tab === "calendar" ? (
          <div role="tabpanel" id="panel-calendar" aria-labelledby="tab-calendar">
            <PriceCalendar
              jobId={id}
              foundFlights={job.foundFlights}
              seededAt={seededAt.found}
              initial={initial.calendar}
              destinations={job.spec.destinations}
              nights={job.spec.nights ?? null}
              from={job.spec.departureFrom}
              to={job.spec.departureTo}
              onPick={(departure, back) => setState({ tab: "results", day: departure, back: back ?? "", cursors: [], flight: null })}
            />
          </div>
        ) : null}
        {tab === "chart" ? (
          <div role="tabpanel" id="panel-chart" aria-labelledby="tab-chart">
            <PriceChart
              jobId={id}
              bestPrice={job.bestPrice?.minorUnits ?? null}
              until={job.finishedAt ?? job.updatedAt}
              seededAt={seededAt.best}
              initial={initial.history}
            />
          </div>
        ) : null}
      </div>
    </>
  );
}
