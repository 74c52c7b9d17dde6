// The shared date range of the revenue, retention and features screens:
// presets (last 7/30/90 days, and the last 12 months where a screen offers it)
// or a custom from/to, kept in the URL query (`?range=30d` or
// `?from=2026-11-01&to=2026-11-30`) so a link or a reload shows the same range.
import { useEffect, useState } from 'react';
import { isoDay } from '../lib/format';
import { navigate } from '../lib/router';

export type Preset = '7d' | '30d' | '90d' | '12m';

export const PRESET_LABELS: Record<Preset, string> = {
  '7d': '7 days',
  '30d': '30 days',
  '90d': '90 days',
  '12m': '12 months',
};

export const DEFAULT_PRESETS: Preset[] = ['7d', '30d', '90d'];

export interface Range {
  from: string;
  to: string;
  /** The preset in use, or null for a custom range. */
  preset: Preset | null;
}

/** The first day of the month `monthsBack` months before this one, `YYYY-MM-DD`. */
export function monthStart(monthsBack: number, now = new Date()): string {
  const d = new Date(now.getFullYear(), now.getMonth() - monthsBack, 1);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-01`;
}

const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;

/** The inclusive local days of a preset, today included. */
export function presetBounds(preset: Preset, now = new Date()): { from: string; to: string } {
  const to = isoDay(0, now);
  if (preset === '12m') return { from: monthStart(11, now), to };
  const days = Number(preset.slice(0, -1));
  return { from: isoDay(-(days - 1), now), to };
}

/** Days in an inclusive `YYYY-MM-DD` range (1 for a single day). */
export function daysIn(from: string, to: string): number {
  const ms = Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`);
  return Number.isFinite(ms) ? Math.max(1, Math.round(ms / 86_400_000) + 1) : 30;
}

/** The range a query string asks for: a known preset, else a valid custom from/to, else the default preset. */
export function rangeFromSearch(search: string, fallback: Preset, presets: Preset[] = DEFAULT_PRESETS, now = new Date()): Range {
  const q = new URLSearchParams(search);
  const range = q.get('range') as Preset | null;
  if (range && (presets.includes(range) || range === fallback)) return { ...presetBounds(range, now), preset: range };
  const from = q.get('from');
  const to = q.get('to');
  if (from && to && DAY_RE.test(from) && DAY_RE.test(to) && from <= to) return { from, to, preset: null };
  return { ...presetBounds(fallback, now), preset: fallback };
}

/** The query string with a range set, other parameters kept. The default preset is left out. */
export function searchWithRange(search: string, range: { preset: Preset } | { from: string; to: string }, fallback: Preset): string {
  const q = new URLSearchParams(search);
  q.delete('range');
  q.delete('from');
  q.delete('to');
  if ('preset' in range) {
    if (range.preset !== fallback) q.set('range', range.preset);
  } else {
    q.set('from', range.from);
    q.set('to', range.to);
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

function useSearch(): string {
  const [search, setSearch] = useState(location.search);
  useEffect(() => {
    const on = () => setSearch(location.search);
    window.addEventListener('popstate', on);
    return () => window.removeEventListener('popstate', on);
  }, []);
  return search;
}

export interface DateRangeState extends Range {
  set: (r: { preset: Preset } | { from: string; to: string }) => void;
  presets: Preset[];
  fallback: Preset;
}

/** The range in the URL query of this screen, and how to change it. */
export function useDateRange(fallback: Preset = '30d', presets: Preset[] = DEFAULT_PRESETS): DateRangeState {
  const search = useSearch();
  const range = rangeFromSearch(search, fallback, presets);
  const set = (r: { preset: Preset } | { from: string; to: string }) =>
    navigate(location.pathname + searchWithRange(location.search, r, fallback), true);
  return { ...range, set, presets, fallback };
}

/** Preset buttons and a custom from/to pair of date inputs. */
export function DateRange({ state }: { state: DateRangeState }) {
  const [from, setFrom] = useState(state.from);
  const [to, setTo] = useState(state.to);
  useEffect(() => {
    setFrom(state.from);
    setTo(state.to);
  }, [state.from, state.to]);
  const apply = (f: string, t: string) => {
    if (DAY_RE.test(f) && DAY_RE.test(t) && f <= t) state.set({ from: f, to: t });
  };
  const invalid = from > to;
  return (
    <div className="date-range" role="group" aria-label="Date range">
      <div className="segmented">
        {state.presets.map((p) => (
          <button key={p} type="button" className={state.preset === p ? 'active' : ''} aria-pressed={state.preset === p} onClick={() => state.set({ preset: p })}>
            {PRESET_LABELS[p]}
          </button>
        ))}
      </div>
      <label className="date-field">
        <span className="sr-only">From</span>
        <input
          type="date"
          aria-label="From"
          value={from}
          max={to || undefined}
          onChange={(e) => {
            setFrom(e.target.value);
            apply(e.target.value, to);
          }}
        />
      </label>
      <span className="muted small" aria-hidden="true">–</span>
      <label className="date-field">
        <span className="sr-only">To</span>
        <input
          type="date"
          aria-label="To"
          value={to}
          min={from || undefined}
          onChange={(e) => {
            setTo(e.target.value);
            apply(from, e.target.value);
          }}
        />
      </label>
      {invalid && <span className="drop-high small" role="alert">“From” is after “To”.</span>}
    </div>
  );
}
