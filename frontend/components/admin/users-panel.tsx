"use client";

import { useMutation, useQuery } from "@apollo/client/react";
import { CombinedGraphQLErrors } from "@apollo/client/errors";
import Link from "next/link";
import { toast } from "sonner";

import type { Role, UsersQuery } from "@/gql/graphql";
import { StaleNotice } from "@/components/layout/stale-notice";
import { useSeed } from "@/lib/hooks";
import { useFormat } from "@/lib/locale";
import { useUrlState } from "@/lib/url-state";

import { SetUserRole, Users } from "./documents";

type Filter = { q: string; role: Role | "" };
const read = (p: URLSearchParams): Filter => {
  const role = p.get("role");
  return { q: p.get("q") ?? "", role: role === "ADMIN" || role === "USER" ? role : "" };
};
const write = (f: Filter) => {
  const out = new URLSearchParams();
  if (f.q) out.set("q", f.q);
  if (f.role) out.set("role", f.role);
  return out;
};

/** Accounts: found by email and role; an admin makes others admins or users (never themselves a user). */
export function UsersPanel({ initial, seeded, me }: {
  initial: UsersQuery;
  seeded: { search: string | null; role: Role | null; after: null };
  me: string;
}) {
  const f = useFormat();
  const [filter, setFilter] = useUrlState(read, write);
  useSeed(Users, seeded, initial);
  const { data, previousData, loading, error, fetchMore } = useQuery(Users, {
    variables: { search: filter.q || null, role: filter.role || null, after: null },
  });
  const [setRole, setting] = useMutation(SetUserRole);
  const page = (data ?? previousData ?? initial).users;
  return (
    <div className="panel">
      <form
        key={`${filter.q}|${filter.role}`}
        className="row"
        role="search"
        aria-label="Find accounts"
        onSubmit={(e) => {
          e.preventDefault();
          const form = new FormData(e.currentTarget);
          setFilter({ q: String(form.get("q") ?? "").trim(), role: String(form.get("role") ?? "") as Role | "" });
        }}
      >
        <div className="field">
          <label htmlFor="u-q">Email contains</label>
          <input id="u-q" name="q" type="search" defaultValue={filter.q} />
        </div>
        <div className="field">
          <label htmlFor="u-role">Role</label>
          <select id="u-role" name="role" defaultValue={filter.role}>
            <option value="">Any</option>
            <option value="USER">USER</option>
            <option value="ADMIN">ADMIN</option>
          </select>
        </div>
        <button type="submit" className="secondary">Find</button>
      </form>
      <StaleNotice error={error} />
      <div className="table-wrap" aria-busy={loading}>
        <table className="cards">
          <thead>
            <tr><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Since</th><th scope="col">Searches</th></tr>
          </thead>
          <tbody>
            {page.nodes.length === 0 ? (
              <tr className="empty"><td colSpan={4} className="muted">No account matches.</td></tr>
            ) : (
              page.nodes.map((u) => (
                <tr key={u.id} data-testid="user-row">
                  <td data-label="Email">{u.email}{u.id === me ? <span className="muted"> (you)</span> : null}</td>
                  <td data-label="Role">
                    <label className="visually-hidden" htmlFor={`role-${u.id}`}>Role of {u.email}</label>
                    <select
                      id={`role-${u.id}`}
                      value={u.role}
                      disabled={setting.loading || u.id === me}
                      title={u.id === me ? "You cannot take your own admin role away" : undefined}
                      onChange={async (e) => {
                        const role = e.target.value as Role;
                        if (!window.confirm(`Make ${u.email} ${role === "ADMIN" ? "an ADMIN (sees and changes everything)" : "a USER"}?`)) return;
                        try {
                          await setRole({ variables: { userId: u.id, role } });
                          toast.success(`${u.email} is now ${role}.`);
                        } catch (error) {
                          toast.error(`Could not change the role: ${CombinedGraphQLErrors.is(error) ? error.errors.map((x) => x.message).join("; ") : "the server did not answer"}`);
                        }
                      }}
                    >
                      <option value="USER">USER</option>
                      <option value="ADMIN">ADMIN</option>
                    </select>
                  </td>
                  <td data-label="Since">{f.utcTime(u.createdAt)}</td>
                  <td data-label="Searches"><Link href={`/admin/searches?owner=${encodeURIComponent(u.email)}`}>their searches</Link></td>
                </tr>
              ))
            )}
          </tbody>
        </table>
      </div>
      {page.pageInfo.hasNextPage ? (
        <button
          type="button"
          className="secondary"
          disabled={loading}
          onClick={() => void fetchMore({
            variables: { after: page.pageInfo.endCursor },
            updateQuery: (prev, { fetchMoreResult }) => ({
              users: { ...fetchMoreResult.users, nodes: [...prev.users.nodes, ...fetchMoreResult.users.nodes] },
            }),
          })}
        >
          More accounts
        </button>
      ) : null}
    </div>
  );
}
