import { render, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { Metrics } from '../api/types';
import { trendOf } from '../lib/format';
import { MetricCards } from './MetricCards';

const metrics: Metrics = {
  total_users: { value: 12345, previous: 10000, trend_pct: 23.46 },
  online_now: { value: 7, previous: 0, trend_pct: null },
  new_this_week: { value: 80, previous: 100, trend_pct: -20 },
  churn_rate: { value: 12.5, previous: 10, trend_pct: 25 },
};

describe('MetricCards', () => {
  it('shows value, arrow and % vs the previous week, coloured by direction', () => {
    render(<MetricCards metrics={metrics} />);
    const total = screen.getByTestId('metric-total_users');
    expect(within(total).getByText('12,345')).toBeTruthy();
    expect(total.querySelector('.trend')!.textContent).toContain('▲ +23.5%');
    expect(total.querySelector('.trend')!.getAttribute('data-tone')).toBe('good');

    const fresh = screen.getByTestId('metric-new_this_week');
    expect(fresh.querySelector('.trend')!.textContent).toContain('▼ −20.0%');
    expect(fresh.querySelector('.trend')!.getAttribute('data-tone')).toBe('bad');

    // Churn going up is bad.
    const churn = screen.getByTestId('metric-churn_rate');
    expect(within(churn).getByText('12.5%')).toBeTruthy();
    expect(churn.querySelector('.trend')!.getAttribute('data-tone')).toBe('bad');

    // No previous week: "new", not a division by zero.
    expect(screen.getByTestId('metric-online_now').querySelector('.trend')!.textContent).toContain('new');
  });

  it('shows skeletons while loading', () => {
    render(<MetricCards metrics={null} loading />);
    expect(screen.getAllByRole('status').length).toBeGreaterThanOrEqual(4);
    expect(screen.getByText('Churn Rate')).toBeTruthy();
  });

  it('treats falling churn as good and a flat trend as neutral', () => {
    expect(trendOf({ value: 5, previous: 10, trend_pct: -50 }, false).tone).toBe('good');
    expect(trendOf({ value: 5, previous: 5, trend_pct: 0 }).tone).toBe('neutral');
    expect(trendOf({ value: 0, previous: 0, trend_pct: null }).label).toBe('0%');
  });
});
