import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { Metrics } from '../api/types';
import { initialLiveState, type LiveState } from '../lib/live';
import { ConnectionPill, effectiveMetrics } from './Overview';
import { move } from './Settings';

const card = (value: number) => ({ value, previous: 1, trend_pct: 0 });
const metrics: Metrics = { total_users: card(10), online_now: card(3), new_this_week: card(2), churn_rate: card(5) };

describe('funnel step reordering', () => {
  it('moves a step up and down and ignores moves past the ends', () => {
    expect(move(['a', 'b', 'c'], 2, -1)).toEqual(['a', 'c', 'b']);
    expect(move(['a', 'b', 'c'], 0, 1)).toEqual(['b', 'a', 'c']);
    expect(move(['a', 'b'], 0, -1)).toEqual(['a', 'b']);
    expect(move(['a', 'b'], 1, 1)).toEqual(['a', 'b']);
  });
});

describe('Online Now and the connection state', () => {
  it('uses live metrics when the socket is up and the polled count otherwise', () => {
    const live: LiveState = { ...initialLiveState, status: 'live', loaded: true, metrics: { ...metrics, online_now: card(9) } };
    expect(effectiveMetrics(metrics, live)!.online_now.value).toBe(9);
    const polling = { ...initialLiveState, status: 'polling' as const, loaded: true, visitors: [{}, {}] as LiveState['visitors'] };
    expect(effectiveMetrics(metrics, polling)!.online_now.value).toBe(2);
    expect(effectiveMetrics(metrics, polling)!.total_users.value).toBe(10);
    expect(effectiveMetrics(undefined, initialLiveState)).toBeNull();
  });

  it('names the connection state', () => {
    const { rerender } = render(<ConnectionPill status="live" />);
    expect(screen.getByTestId('connection').textContent).toContain('Live');
    rerender(<ConnectionPill status="reconnecting" />);
    expect(screen.getByTestId('connection').textContent).toContain('Reconnecting…');
    rerender(<ConnectionPill status="polling" />);
    expect(screen.getByTestId('connection').textContent).toContain('Polling');
  });
});
