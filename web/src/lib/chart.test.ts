import { describe, expect, it } from 'vitest';
import type { DailyStat } from '../api/types';
import { chartPoints, dayLabel, rangeBounds } from './chart';

const day = (date: string, active: number, created: number): DailyStat => ({
  date,
  active_users: active,
  new_users: created,
  sessions: 0,
  pageviews: 0,
  events: 0,
  avg_session_s: 0,
  bounce_rate: 0,
});

describe('users chart data', () => {
  it('maps daily stats to sorted points with labels', () => {
    const points = chartPoints([day('2026-03-02', 5, 1), day('2026-03-01', 3, 3)]);
    expect(points).toEqual([
      { date: '2026-03-01', label: '1 Mar', active: 3, new: 3 },
      { date: '2026-03-02', label: '2 Mar', active: 5, new: 1 },
    ]);
  });

  it('labels days and keeps odd input readable', () => {
    expect(dayLabel('2026-12-31')).toBe('31 Dec');
    expect(dayLabel('garbage')).toBe('garbage');
  });

  it('computes inclusive ranges of 7, 30 and 90 local days', () => {
    const now = new Date(2026, 2, 10, 15, 0);
    expect(rangeBounds(7, now)).toEqual({ from: '2026-03-04', to: '2026-03-10' });
    expect(rangeBounds(30, now)).toEqual({ from: '2026-02-09', to: '2026-03-10' });
    expect(rangeBounds(90, now).from).toBe('2025-12-11');
  });
});
