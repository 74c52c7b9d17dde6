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
