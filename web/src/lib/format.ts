// Number, date and duration formatting shared by the screens.
import type { Card } from '../api/types';

export const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');

export function fmtDuration(totalSeconds: number): string {
  const s = Math.max(0, Math.floor(totalSeconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m ${String(sec).padStart(2, '0')}s`;
  return `${sec}s`;
}

export function fmtDateTime(ms: number | null | undefined): string {
  if (!ms) return '—';
  const d = new Date(ms);
  return d.toLocaleString('en-GB', { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

/** `YYYY-MM-DD` in the browser's time zone, `offsetDays` from today. */
export function isoDay(offsetDays = 0, now = new Date()): string {
  const d = new Date(now.getFullYear(), now.getMonth(), now.getDate() + offsetDays);
  const m = String(d.getMonth() + 1).padStart(2, '0');
  const day = String(d.getDate()).padStart(2, '0');
  return `${d.getFullYear()}-${m}-${day}`;
}

export type Direction = 'up' | 'down' | 'flat';
export type Tone = 'good' | 'bad' | 'neutral';

export interface Trend {
  direction: Direction;
  tone: Tone;
  /** "+12.5%" / "−3.0%" / "new" / "0%" */
  label: string;
}

/**
 * The trend arrow of a metric card. `goodWhenUp` is false for churn, where a
 * rise is bad. `trend_pct` is null when last week was 0.
 */
export function trendOf(card: Card, goodWhenUp = true): Trend {
  const pct = card.trend_pct;
  if (pct === null || pct === undefined) {
    if (card.value === 0) return { direction: 'flat', tone: 'neutral', label: '0%' };
    return { direction: 'up', tone: goodWhenUp ? 'good' : 'bad', label: 'new' };
  }
  if (Math.abs(pct) < 0.05) return { direction: 'flat', tone: 'neutral', label: '0%' };
  const direction: Direction = pct > 0 ? 'up' : 'down';
  const good = (direction === 'up') === goodWhenUp;
  const sign = pct > 0 ? '+' : '−';
  return { direction, tone: good ? 'good' : 'bad', label: `${sign}${Math.abs(pct).toFixed(1)}%` };
}

/** Who a visitor or person is, for a table cell. */
export function displayName(v: { email?: string | null; name?: string | null; user_id?: string | null; anonymous_id?: string | null }): {
  primary: string;
  secondary: string | null;
  anonymous: boolean;
} {
  if (v.email) return { primary: v.email, secondary: v.name ?? v.user_id ?? null, anonymous: false };
  if (v.name) return { primary: v.name, secondary: v.user_id ?? null, anonymous: false };
  if (v.user_id) return { primary: v.user_id, secondary: null, anonymous: false };
  const anon = v.anonymous_id ?? 'unknown';
  return { primary: `Anonymous ${anon.slice(0, 8)}`, secondary: null, anonymous: true };
}

/** An amount in minor units (cents) of `currency`, e.g. 123456 USD → "$1,234.56". */
export function fmtMoney(minor: number, currency: string): string {
  const code = (currency || 'USD').toUpperCase();
  let digits = 2;
  try {
    digits = new Intl.NumberFormat('en-US', { style: 'currency', currency: code }).resolvedOptions().maximumFractionDigits ?? 2;
    return new Intl.NumberFormat('en-US', { style: 'currency', currency: code }).format(minor / 10 ** digits);
  } catch {
    return `${(minor / 100).toFixed(2)} ${code}`;
  }
}

/** A percentage or "–" when there is none (a day not reached yet, an empty cohort). */
export const fmtPct = (v: number | null | undefined) => (v === null || v === undefined ? '–' : `${v.toFixed(1)}%`);

export const fmtUsd = (v: number) =>
  `$${v.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: v !== 0 && Math.abs(v) < 1 ? 4 : 2 })}`;

/** Compact token counts: 1234 → "1,234", 2_500_000 → "2.5M". */
export function fmtCompact(n: number): string {
  if (Math.abs(n) >= 1e9) return `${(n / 1e9).toFixed(1)}B`;
  if (Math.abs(n) >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  return fmtInt(n);
}
