"use client";

import { useLazyQuery, useSubscription } from "@apollo/client/react";
import { print } from "graphql";
import { useState, type FormEvent } from "react";
import { toast } from "sonner";

import { graphql } from "@/gql";
import type { ImportFieldsFragment, ImportFlightsMutation, ImportRejectionsQuery, ImportsQuery } from "@/gql/graphql";
import { ProgressBar } from "@/components/search/progress-bar";
import { useSeededQuery } from "@/lib/hooks";

import { ImportProgress, ImportRejections, Imports } from "./documents";

// Sent by hand as a multipart request (Apollo's HTTP link does not upload files), but
// typed and checked against the schema like every other document.
const ImportFlights = graphql(`
  mutation ImportFlights($file: Upload!) { importFlights(file: $file) { id status } }
`);

/** One import, its progress live while it runs. */
function ImportRow({ item, onShow }: { item: ImportFieldsFragment; onShow: (id: string) => void }) {
  useSubscription(ImportProgress, {
    variables: { id: item.id },
    skip: !["UPLOADING", "QUEUED", "RUNNING"].includes(item.status),
  });
  return (
    <tr data-import-id={item.id}>
      <td>{item.filename}<div className="muted">{item.source.toLowerCase()}, {(item.sizeBytes / 1024).toFixed(1)} KiB</div></td>
      <td>
        {item.status === "SUCCEEDED" && item.rowsRejected > 0 ? (
          // Some rows did not make it: a warning, not a plain success.
          <span className="status PAUSED" data-testid="import-status" title="Imported, with rejected rows">
            SUCCEEDED, {item.rowsRejected.toLocaleString("en")} rejected
          </span>
        ) : (
          <span className={`status ${item.status}`} data-testid="import-status">{item.status}</span>
        )}
      </td>
      <td style={{ minWidth: "8rem" }}><ProgressBar percent={item.percent} label={`Import of ${item.filename}`} /></td>
      <td data-testid="rows-imported">{item.rowsImported.toLocaleString("en")}</td>
      <td data-testid="rows-rejected">
        {item.rowsRejected > 0 ? (
          <button type="button" className="link-button" onClick={() => onShow(item.id)}>
            {item.rowsRejected.toLocaleString("en")} — show
          </button>
        ) : "0"}
      </td>
      <td className="wrap">{item.error ?? ""}</td>
    </tr>
  );
}

type RejectionsOf = NonNullable<ImportRejectionsQuery["import"]>;

/** A CSV field, quoted when it has to be. */
function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** The rejected rows as a CSV file: line, problems, the row itself. */
function rejectionsCsv(item: RejectionsOf): string {
  const lines = ["line,problems,row"];
  for (const r of item.rejections) lines.push([String(r.line), r.problems.join("; "), r.content ?? ""].map(csvField).join(","));
  return `${lines.join("\r\n")}\r\n`;
}

/** An import's rejected rows: each with all its problems and its own text, and a CSV of them. */
function Rejections({ item }: { item: RejectionsOf }) {
  const kept = item.rejections.length;
  const download = () => {
    const url = URL.createObjectURL(new Blob([rejectionsCsv(item)], { type: "text/csv" }));
    const link = document.createElement("a");
    link.href = url;
    link.download = `${item.filename.replace(/\.csv$/i, "")} - rejected rows.csv`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };
  return (
    <section className="panel" aria-labelledby="rejected-heading">
      <div className="row" style={{ justifyContent: "space-between", alignItems: "center" }}>
        <h2 id="rejected-heading" style={{ margin: 0 }}>
          Rejected rows of {item.filename} ({item.rowsRejected.toLocaleString("en")})
        </h2>
        <button type="button" className="secondary" onClick={download}>Download as CSV</button>
      </div>
      {item.rowsRejected > kept ? <p className="muted">The first {kept.toLocaleString("en")} are kept and shown.</p> : null}
      <div className="table-wrap">
        <table data-testid="rejections" className="cards">
          <thead><tr><th scope="col">Line</th><th scope="col">Problems</th><th scope="col">Row</th></tr></thead>
          <tbody>
            {item.rejections.map((r) => (
              <tr key={r.line}>
                <td data-label="Line">{r.line}</td>
                <td data-label="Problems" className="wrap">
                  {r.problems.length === 1 ? r.problems[0] : <ul className="problems">{r.problems.map((p) => <li key={p}>{p}</li>)}</ul>}
                </td>
                <td data-label="Row" className="wrap"><code>{r.content ?? "—"}</code></td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** Upload a CSV of flights, watch the import, read its rejected rows. */
export function ImportsPanel({ initial }: { initial: ImportsQuery }) {
  const { data, refetch } = useSeededQuery(Imports, {}, initial);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [showRejections, rejections] = useLazyQuery(ImportRejections);
  const imports = (data ?? initial).imports.nodes;

  async function upload(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const file = (formElement.elements.namedItem("file") as HTMLInputElement).files?.[0];
    if (!file) {
      setError("choose a CSV file first");
      return;
    }
    setBusy(true);
    setError(null);
    // The GraphQL multipart request spec: operations, a map, then the file.
    const body = new FormData();
    body.append("operations", JSON.stringify({
      query: print(ImportFlights),
      variables: { file: null },
    }));
    body.append("map", JSON.stringify({ 0: ["variables.file"] }));
    body.append("0", file, file.name);
    let response: Response;
    let result: { data?: ImportFlightsMutation | null; errors?: { message: string }[] };
    try {
      response = await fetch("/api/graphql", { method: "POST", body });
      result = await response.json();
    } catch {
      setError("the upload did not reach the server");
      setBusy(false);
      return;
    }
    setBusy(false);
    if (!response.ok || result.errors?.length || !result.data) {
      setError(result.errors?.map((e) => e.message).join("; ") ?? `the upload failed (${response.status})`);
      return;
    }
    toast.info(`${file.name} uploaded; a worker imports it now`);
    formElement.reset();
    refetch().catch(() => toast.error("Could not refresh the list of imports; reload the page"));
  }

  return (
    <>
      <form className="panel" onSubmit={upload} aria-label="Upload flights">
        <h2 style={{ marginTop: 0 }}>Upload flights (CSV)</h2>
        <p className="muted">
          Header: <code>flight_number,airline,origin,destination,departure,arrival,cabin,price,currency,seats_total,seats_available</code>;
          times are local to each airport. A flight already in the catalogue is replaced.
        </p>
        <div className="row">
          <div className="field">
            <label htmlFor="file">CSV file</label>
            <input id="file" name="file" type="file" accept=".csv,text/csv" />
          </div>
          <button type="submit" disabled={busy}>{busy ? "Uploading…" : "Upload"}</button>
        </div>
        {error ? <p className="form-error" role="alert">{error}</p> : null}
      </form>
      <section className="panel" aria-labelledby="imports-heading">
        <h2 id="imports-heading" style={{ marginTop: 0 }}>Imports</h2>
        <div className="table-wrap">
          <table>
            <thead>
              <tr><th scope="col">File</th><th scope="col">Status</th><th scope="col">Progress</th><th scope="col">Imported</th><th scope="col">Rejected</th><th scope="col">Error</th></tr>
            </thead>
            <tbody>
              {imports.length ? imports.map((i) => (
                <ImportRow key={i.id} item={i} onShow={(id) => showRejections({ variables: { id } })} />
              )) : <tr><td colSpan={6} className="muted">No imports yet.</td></tr>}
            </tbody>
          </table>
        </div>
      </section>
      {rejections.data?.import ? <Rejections item={rejections.data.import} /> : null}
    </>
  );
}
