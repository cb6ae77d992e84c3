export default function Loading() {
  return <p className="muted" aria-busy="true">Loading the webhook endpoints…</p>;
}
