// Formatting for the Support page: trends, times of day in the project's
// time zone, and the local day bounds the activity timeline cuts bands at.
import type { Stamp, Trend } from '../../api/support';
import { toMs } from '../../api/support';

export const ARROW = { up: '▲', down: '▼', stable: '■' } as const;
export type Tone = 'good' | 'bad' | 'neutral';

/**
 * The colour of a trend: `goodWhenUp` true (delivery rate), false (response
 * time, open tickets) or null when a rise is neither (active conversations).
 */
export function trendTone(t: Pick<Trend, 'trend'>, goodWhenUp: boolean | null): Tone {
  if (t.trend === 'stable' || goodWhenUp === null) return 'neutral';
  return (t.trend === 'up') === goodWhenUp ? 'good' : 'bad';
}

/** "+12.5%", "−3.0%", "0%" (the API's `change` is already signed). */
export function changeLabel(t: Pick<Trend, 'change'>): string {
  if (!t.change) return '0%';
  return `${t.change > 0 ? '+' : '−'}${Math.abs(t.change).toFixed(1)}%`;
}

export const pct = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? '–' : `${v.toFixed(1)}%`);

const fmtCache = new Map<string, Intl.DateTimeFormat>();
function formatter(tz: string | undefined, opts: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${tz ?? ''}|${JSON.stringify(opts)}`;
  let f = fmtCache.get(key);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-GB', { ...opts, timeZone: tz || undefined });
    } catch {
      f = new Intl.DateTimeFormat('en-GB', opts);
    }
    fmtCache.set(key, f);
  }
  return f;
}

/** A bucket's label: "14:00" for an hour of a single day, "7 Dec 14:00" across days, "7 Dec" for days; strings that are not times as they are. */
export function stampLabel(v: Stamp, tz?: string, kind: 'hour' | 'day' | 'datetime' = 'hour'): string {
  const ms = toMs(v);
  if (!Number.isFinite(ms)) return String(v);
  const opts: Intl.DateTimeFormatOptions =
    kind === 'hour' ? { hour: '2-digit', minute: '2-digit', hour12: false }
      : kind === 'day' ? { day: 'numeric', month: 'short' }
        : { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hour12: false };
  return formatter(tz, opts).format(new Date(ms));
}

/** The offset of `tz` from UTC at `ms`, in ms (0 when the zone is unknown). */
function zoneOffset(ms: number, tz: string): number {
  const parts = formatter(tz, { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).formatToParts(new Date(ms));
  const n = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  const asUtc = Date.UTC(n('year'), n('month') - 1, n('day'), n('hour') % 24, n('minute'), n('second'));
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/** Unix ms of 00:00 of `day` (`YYYY-MM-DD`) in `tz` (the browser's zone when empty). */
export function dayStart(day: string, tz?: string): number {
  const [y, m, d] = day.split('-').map(Number);
  if (!tz) return new Date(y, m - 1, d).getTime();
  const guess = Date.UTC(y, m - 1, d);
  let start = guess - zoneOffset(guess, tz);
  // Once more, for a day whose offset differs from its UTC midnight's (DST).
  start = guess - zoneOffset(start, tz);
  return start;
}

/** The inclusive days from `from` to `to` (`YYYY-MM-DD`), at most `max` (the last ones). */
export function daysBetween(from: string, to: string, max = 31): string[] {
  const out: string[] = [];
  const start = Date.parse(`${from}T00:00:00Z`);
  const end = Date.parse(`${to}T00:00:00Z`);
  if (!Number.isFinite(start) || !Number.isFinite(end)) return out;
  for (let t = end; t >= start && out.length < max; t -= 86_400_000) out.push(new Date(t).toISOString().slice(0, 10));
  return out.reverse();
}

export const DAY_NAMES = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
