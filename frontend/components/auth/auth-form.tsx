"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";

import { fieldErrors, type ApiError } from "@/lib/graphql-errors";

/** Log-in or sign-up: the route handler sets the session cookie; errors show by their field. */
export function AuthForm({ mode, expired, error, next = "/searches" }: {
  mode: "login" | "signup";
  expired?: boolean;
  error?: string;
  /** Where to go once signed in (already checked to be a path on this site). */
  next?: string;
}) {
  const router = useRouter();
  const [errors, setErrors] = useState<Record<string, string>>(error ? { "": error } : {});
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setErrors({});
    try {
      const response = await fetch(`/api/auth/${mode}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: form.get("email"), password: form.get("password") }),
      });
      if (!response.ok) {
        const body = (await response.json().catch(() => ({}))) as { errors?: ApiError[] };
        setErrors(fieldErrors(body.errors ?? [{ message: "something went wrong; try again" }]));
        return;
      }
      router.push(next);
      router.refresh();
    } catch {
      setErrors({ "": "the server is not reachable; try again" });
    } finally {
      setBusy(false);
    }
  }

  const signup = mode === "signup";
  return (
    <form className="panel" method="post" action={`/api/auth/${mode}${next === "/searches" ? "" : `?next=${encodeURIComponent(next)}`}`} onSubmit={submit} noValidate aria-describedby="form-error">
      {expired ? <p className="muted">Your session ended; log in again.</p> : null}
      <div className="field">
        <label htmlFor="email">Email</label>
        <input id="email" name="email" type="email" autoComplete="email" required
          aria-invalid={Boolean(errors.email)} aria-describedby="email-error" />
        <div id="email-error" className="field-error" role="alert">{errors.email}</div>
      </div>
      <div className="field">
        <label htmlFor="password">Password</label>
        <input id="password" name="password" type="password" required
          autoComplete={signup ? "new-password" : "current-password"}
          aria-invalid={Boolean(errors.password)} aria-describedby="password-error password-hint" />
        {signup ? <div id="password-hint" className="muted">At least 10 characters.</div> : null}
        <div id="password-error" className="field-error" role="alert">{errors.password}</div>
      </div>
      <div id="form-error" className="form-error" role="alert">{errors[""]}</div>
      <div className="row">
        <button type="submit" disabled={busy}>{signup ? "Create account" : "Log in"}</button>
        {signup ? <Link href={next === "/searches" ? "/login" : `/login?next=${encodeURIComponent(next)}`}>I have an account</Link> : <Link href={next === "/searches" ? "/signup" : `/signup?next=${encodeURIComponent(next)}`}>Create an account</Link>}
      </div>
    </form>
  );
}
