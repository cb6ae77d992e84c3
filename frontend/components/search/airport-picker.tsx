"use client";

import { useQuery } from "@apollo/client/react";
import { useEffect, useId, useState } from "react";

import { graphql } from "@/gql";

const Airports = graphql(`
  query Airports($query: String!) {
    airports(query: $query, first: 8) { code kind name city country airports }
  }
`);

/**
 * Several airports or cities, picked by typing: an accessible combobox (arrow keys move,
 * Enter picks, Escape closes) over the `airports` query.
 */
export function AirportPicker({ name, label, value, onChange, error }: {
  name: string;
  label: string;
  value: string[];
  onChange: (codes: string[]) => void;
  error?: string;
}) {
  const id = useId();
  const [text, setText] = useState("");
  const [query, setQuery] = useState("");
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  useEffect(() => {
    const t = setTimeout(() => setQuery(text.trim()), 150);
    return () => clearTimeout(t);
  }, [text]);
  const { data } = useQuery(Airports, { variables: { query }, skip: query.length < 2 });
  const options = (query.length >= 2 ? data?.airports ?? [] : []).filter((a) => !value.includes(a.code));
  const listId = `${id}-list`;

  function pick(code: string) {
    onChange([...value, code]);
    setText("");
    setQuery("");
    setActive(0);
  }

  return (
    <div className="field">
      <label htmlFor={`${id}-input`}>{label}</label>
      <input
        id={`${id}-input`}
        type="text"
        role="combobox"
        aria-expanded={open && options.length > 0}
        aria-controls={listId}
        aria-autocomplete="list"
        aria-activedescendant={open && options[active] ? `${id}-opt-${active}` : undefined}
        aria-invalid={Boolean(error)}
        aria-describedby={`${id}-error`}
        autoComplete="off"
        placeholder="City or airport, e.g. London or LHR"
        value={text}
        data-testid={`${name}-input`}
        onChange={(e) => {
          setText(e.target.value);
          setOpen(true);
          setActive(0);
        }}
        onBlur={() => setTimeout(() => setOpen(false), 150)}
        onKeyDown={(e) => {
          if (e.key === "ArrowDown") {
            e.preventDefault();
            setOpen(true);
            setActive((a) => Math.max(0, Math.min(a + 1, options.length - 1)));
          } else if (e.key === "ArrowUp") {
            e.preventDefault();
            setActive((a) => Math.max(a - 1, 0));
          } else if (e.key === "Enter") {
            if (open && options[active]) {
              e.preventDefault();
              pick(options[active].code);
            } else if (/^[A-Za-z]{3}$/.test(text.trim())) {
              e.preventDefault();
              pick(text.trim().toUpperCase());
            } else if (text.trim() !== "") {
              // Half-typed text is not an airport yet: Enter must not send the form without it.
              e.preventDefault();
            }
          } else if (e.key === "Escape") {
            setOpen(false);
          } else if (e.key === "Backspace" && text === "" && value.length) {
            onChange(value.slice(0, -1));
          }
        }}
      />
      {open && options.length > 0 ? (
        <ul className="suggestions" id={listId} role="listbox" aria-label={`${label} suggestions`}>
          {options.map((a, i) => (
            <li
              key={a.code}
              id={`${id}-opt-${i}`}
              role="option"
              aria-selected={i === active}
              onMouseDown={(e) => {
                e.preventDefault();
                pick(a.code);
              }}
            >
              <strong>{a.code}</strong> {a.kind === "METRO" ? `${a.city || a.name} (all airports)` : a.name}
              <span className="muted"> {a.country}</span>
            </li>
          ))}
        </ul>
      ) : null}
      <div className="chips" aria-live="polite">
        {value.map((code) => (
          <span className="chip" key={code} data-testid={`${name}-chip`}>
            {code}
            <button type="button" aria-label={`Remove ${code}`} onClick={() => onChange(value.filter((c) => c !== code))}>×</button>
          </span>
        ))}
      </div>
      <input type="hidden" name={name} value={value.join(",")} />
      <div id={`${id}-error`} className="field-error" role="alert">{error}</div>
    </div>
  );
}
