"use client";

import { useMutation } from "@apollo/client/react";
import { CombinedGraphQLErrors } from "@apollo/client/errors";
import { toast } from "sonner";

import { graphql } from "@/gql";
import type { AdminProvidersQuery } from "@/gql/graphql";
import { useSeededQuery } from "@/lib/hooks";

import { AdminProviders } from "./documents";

const SetEnabled = graphql(`
  mutation SetProviderEnabled($name: String!, $enabled: Boolean!) {
    setProviderEnabled(name: $name, enabled: $enabled) { name enabled }
  }
`);

/** Every provider with its settings and health in the API's process; switch them on and off. */
export function ProvidersPanel({ initial }: { initial: AdminProvidersQuery }) {
  const { data, refetch } = useSeededQuery(AdminProviders, {}, initial);
  const [setEnabled] = useMutation(SetEnabled, {
    onError: (e) => toast.error(CombinedGraphQLErrors.is(e) ? e.errors[0]?.message : "the server did not answer"),
  });
  const providers = (data ?? initial).providers;
  return (
    <div className="panel">
      <div className="row" style={{ justifyContent: "space-between" }}>
        <p className="muted" style={{ margin: 0 }}>Switching a provider affects new searches on every server; running searches go on as they started. Health is this API process&apos;s own calls.</p>
        <button type="button" className="secondary" onClick={() => refetch().catch(() => toast.error("Could not refresh: the server did not answer"))}>Refresh health</button>
      </div>
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Provider</th><th scope="col">On</th><th scope="col">Settings</th>
              <th scope="col">Calls</th><th scope="col">Error rate</th><th scope="col">p50 / p95</th><th scope="col">Circuit</th>
            </tr>
          </thead>
          <tbody>
            {providers.map((p) => (
              <tr key={p.name} data-provider={p.name}>
                <td><strong>{p.name}</strong><div className="muted">{p.kind}{p.baseUrl ? ` · ${p.baseUrl}` : ""}</div></td>
                <td>
                  <input
                    type="checkbox"
                    role="switch"
                    aria-label={`${p.name} enabled`}
                    checked={p.enabled}
                    onChange={(e) => {
                      const switched = { __typename: "Provider" as const, name: p.name, enabled: e.target.checked };
                      void setEnabled({
                        variables: { name: p.name, enabled: e.target.checked },
                        optimisticResponse: { setProviderEnabled: switched },
                      }).catch(() => {});
                    }}
                  />
                </td>
                <td className="muted">
                  {p.rateLimit ? `${p.rateLimit.perSecond}/s (${p.rateLimit.scope.toLowerCase()}) · ` : ""}
                  timeout {p.timeoutMs ?? "—"} ms · {p.retries ?? 0} retries · {p.capabilities.dateWindowDays} day window
                  {p.hasApiKey ? " · key set" : ""}
                </td>
                <td>{p.health?.calls ?? 0}</td>
                <td>{p.health ? `${(p.health.errorRate * 100).toFixed(1)}%` : "—"}</td>
                <td>{p.health?.p50Ms != null ? `${p.health.p50Ms.toFixed(0)} / ${(p.health.p95Ms ?? 0).toFixed(0)} ms` : "—"}</td>
                <td>{p.health?.breaker ?? "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
