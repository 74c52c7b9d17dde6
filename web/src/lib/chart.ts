// Maps `/stats/daily` rows to the users chart's points.
import type { DailyStat } from '../api/types';
import { isoDay } from './format';

export interface ChartPoint {
  date: string;
  /** "12 Mar" */
  label: string;
  active: number;
  new: number;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export function dayLabel(date: string): string {
  const [, m, d] = date.split('-').map(Number);
  if (!m || !d) return date;
  return `${d} ${MONTHS[m - 1]}`;
}

export function chartPoints(days: DailyStat[]): ChartPoint[] {
  return [...days]
    .sort((a, b) => a.date.localeCompare(b.date))
    .map((d) => ({ date: d.date, label: dayLabel(d.date), active: d.active_users, new: d.new_users }));
}

export const RANGES = [7, 30, 90] as const;
export type RangeDays = (typeof RANGES)[number];

/** The inclusive `from`/`to` of the last `days` local days, today included. */
export function rangeBounds(days: number, now = new Date()): { from: string; to: string } {
  return { from: isoDay(-(days - 1), now), to: isoDay(0, now) };
}
