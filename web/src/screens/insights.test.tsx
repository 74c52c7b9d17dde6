import { render, screen, within, fireEvent } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { api, ApiError } from '../api/client';
import type { AiUsage, Features, Project, Retention as RetentionReport, Revenue as RevenueReport } from '../api/types';
import { presetBounds } from '../components/DateRange';
import { fmtMoney } from '../lib/format';
import { FeaturesAi } from './FeaturesAi';
import { monthStart, Revenue } from './Revenue';
import { heatColor, Retention } from './Retention';

const project = { id: 'p1', name: 'Shop' } as Project;
afterEach(() => vi.restoreAllMocks());
const never = <T,>() => new Promise<T>(() => undefined);

const revenue: RevenueReport = {
  currency: 'USD', from: '2026-01-01', to: '2026-12-02', interval: 'month',
  total: 1234500, refunds: 4900, net: 1229600, mrr: 99900, arpu: 2469, paying_users: 42, active_users: 500,
  by_plan: [{ plan: 'pro', revenue: 1000000, mrr: 79900, subscribers: 16 }, { plan: '', revenue: 234500, mrr: 20000, subscribers: 0 }],
  series: [{ period: '2026-11', revenue: 200000 }, { period: '2026-12', revenue: 1034500 }],
  subscription_churn: { active_at_start: 20, canceled: 3, rate_pct: 15 },
  unconverted: [], unconverted_mrr: [],
};
const emptyRevenue: RevenueReport = {
  ...revenue, total: 0, refunds: 0, net: 0, mrr: 0, arpu: null, paying_users: 0, by_plan: [],
  series: [{ period: '2026-12', revenue: 0 }], subscription_churn: { active_at_start: 0, canceled: 0, rate_pct: null },
};

describe('Revenue', () => {
  it('shows skeletons while loading', () => {
    vi.spyOn(api, 'revenue').mockReturnValue(never());
    render(<Revenue project={project} />);
    expect(screen.getByRole('status', { name: 'Loading revenue' })).toBeTruthy();
    expect(screen.getByRole('status', { name: 'Loading MRR' })).toBeTruthy();
  });

  it('asks for 12 months by month and shows cards, bars, plans and churn', async () => {
    const spy = vi.spyOn(api, 'revenue').mockResolvedValue(revenue);
    render(<Revenue project={project} />);
    expect(await screen.findByText('$12,345.00')).toBeTruthy();
    expect(spy).toHaveBeenCalledWith('p1', monthStart(11), expect.any(String), 'month');
    expect(within(screen.getByTestId('stat-mrr')).getByText('$999.00')).toBeTruthy();
    expect(within(screen.getByTestId('stat-arpu')).getByText('$24.69')).toBeTruthy();
    expect(within(screen.getByTestId('stat-paying')).getByText('42')).toBeTruthy();
    expect(screen.getByRole('listitem', { name: 'Dec 26: $10,345.00' })).toBeTruthy();
    const plans = screen.getByTestId('by-plan');
    expect(within(plans).getByText('pro')).toBeTruthy();
    expect(within(plans).getByText('no plan')).toBeTruthy();
    expect(within(plans).getByText('16')).toBeTruthy();
    expect(within(screen.getByTestId('churn')).getByText('15.0%')).toBeTruthy();
    expect(screen.queryByTestId('unconverted')).toBeNull();
  });

  it('notes amounts without an exchange rate', async () => {
    vi.spyOn(api, 'revenue').mockResolvedValue({ ...revenue, unconverted: [{ currency: 'GBP', amount: 1500 }] });
    render(<Revenue project={project} />);
    expect((await screen.findByTestId('unconverted')).textContent).toContain('£15.00');
  });

  it('explains how to send payments when there is no revenue', async () => {
    vi.spyOn(api, 'revenue').mockResolvedValue(emptyRevenue);
    render(<Revenue project={project} />);
    expect(await screen.findByText('No revenue yet')).toBeTruthy();
    expect(screen.getByText('POST /api/v1/track')).toBeTruthy();
  });

  it('shows the error with a retry that asks again', async () => {
    const spy = vi.spyOn(api, 'revenue').mockRejectedValueOnce(new ApiError(500, 'internal', 'Boom.')).mockResolvedValue(revenue);
    render(<Revenue project={project} />);
    expect((await screen.findByRole('alert')).textContent).toContain('Boom.');
    fireEvent.click(screen.getByRole('button', { name: 'Retry' }));
    expect(await screen.findByText('$12,345.00')).toBeTruthy();
    expect(spy).toHaveBeenCalledTimes(2);
  });

  it('formats minor units by currency', () => {
    expect(fmtMoney(123456, 'EUR')).toBe('€1,234.56');
    expect(fmtMoney(5000, 'JPY')).toBe('¥5,000');
  });
});

const retention: RetentionReport = {
  cohort: 'week', from: '2026-11-16', to: '2026-11-29', timezone: 'UTC',
  cohorts: [
    { cohort: '2026-11-16', size: 10, retained: { '1': 4, '7': 2, '30': null }, pct: { '1': 40, '7': 20, '30': null } },
    { cohort: '2026-11-23', size: 0, retained: { '1': 0, '7': null, '30': null }, pct: { '1': null, '7': null, '30': null } },
  ],
  overall: { day1: 40, day7: 20, day30: null },
};

describe('Retention', () => {
  it('shows skeletons while loading', () => {
    vi.spyOn(api, 'retention').mockReturnValue(never());
    render(<Retention project={project} />);
    expect(screen.getByRole('status', { name: 'Loading retention' })).toBeTruthy();
  });

  it('draws the heatmap with – for days not reached and the day 1/7/30 cards', async () => {
    vi.spyOn(api, 'retention').mockResolvedValue(retention);
    render(<Retention project={project} />);
    const row = await screen.findByTestId('cohort-2026-11-16');
    const cells = row.querySelectorAll('td.heat');
    expect([...cells].map((c) => c.textContent)).toEqual(['40.0%', '20.0%', '–']);
    expect((cells[0] as HTMLElement).style.background).not.toBe('');
    expect(cells[2].className).toContain('heat-none');
    expect(within(screen.getByTestId('stat-day1')).getByText('40.0%')).toBeTruthy();
    expect(within(screen.getByTestId('stat-day30')).getByText('–')).toBeTruthy();
    expect(within(screen.getByTestId('stat-people')).getByText('10')).toBeTruthy();
    expect(heatColor(null)).toBeUndefined();
  });

  it('switches between weekly and daily cohorts', async () => {
    const spy = vi.spyOn(api, 'retention').mockImplementation(async (_id, cohort) => ({ ...retention, cohort: cohort ?? 'day' }));
    render(<Retention project={project} />);
    await screen.findByTestId('heatmap');
    const { from, to } = presetBounds('90d');
    expect(spy).toHaveBeenLastCalledWith('p1', 'week', from, to);
    fireEvent.click(screen.getByRole('button', { name: 'Daily cohorts' }));
    expect(await screen.findByText('Day')).toBeTruthy();
    expect(spy).toHaveBeenLastCalledWith('p1', 'day', from, to);
  });

  it('explains cohorts when nobody is new', async () => {
    vi.spyOn(api, 'retention').mockResolvedValue({ ...retention, cohorts: [retention.cohorts[1]], overall: { day1: null, day7: null, day30: null } });
    render(<Retention project={project} />);
    expect(await screen.findByText('No new people in this range')).toBeTruthy();
  });

  it('shows errors with a retry', async () => {
    vi.spyOn(api, 'retention').mockRejectedValue(new ApiError(0, 'network', 'Cannot reach the Vibe server.'));
    render(<Retention project={project} />);
    expect((await screen.findByRole('alert')).textContent).toContain('Cannot reach');
    expect(screen.getByRole('button', { name: 'Retry' })).toBeTruthy();
  });
});

const sums = (calls: number, p: number, c: number, cost: number) => ({ calls, prompt_tokens: p, completion_tokens: c, total_tokens: p + c, cost_usd: cost });
const features: Features = {
  from: '2026-11-03', to: '2026-12-02', timezone: 'UTC', active_people: 50,
  features: [{ name: 'export_pdf', total: 321, unique_people: 12, share_of_active_pct: 24, daily: [{ day: '2026-12-01', count: 1 }, { day: '2026-12-02', count: 5 }] }],
};
const ai: AiUsage = {
  from: '2026-11-03', to: '2026-12-02', timezone: 'UTC',
  totals: sums(7, 1000, 500, 0.25),
  by_model: [{ model: 'gpt-4o', ...sums(5, 900, 400, 0.2) }, { model: 'claude-3', ...sums(2, 100, 100, 0.05) }],
  by_user: [{ user: { id: 'x1', user_id: 'u1', email: 'ann@example.com', name: 'Ann' }, ...sums(7, 1000, 500, 0.25) }],
  users_total: 1, limit: 20, offset: 0,
  daily: [{ day: '2026-12-01', ...sums(0, 0, 0, 0) }, { day: '2026-12-02', ...sums(7, 1000, 500, 0.25) }],
};
const noAi: AiUsage = { ...ai, totals: sums(0, 0, 0, 0), by_model: [], by_user: [], users_total: 0, daily: [] };

describe('Features & AI', () => {
  // The flows section (components/Flows.test.tsx) has no flows here.
  beforeEach(() => {
    vi.spyOn(api, 'flows').mockResolvedValue({ flows: [] });
    vi.spyOn(api, 'project').mockResolvedValue({ ...project, role: 'viewer' } as Project & { role: 'viewer' });
  });

  it('shows skeletons while loading', () => {
    vi.spyOn(api, 'features').mockReturnValue(never());
    vi.spyOn(api, 'aiUsage').mockReturnValue(never());
    render(<FeaturesAi project={project} />);
    expect(screen.getByRole('status', { name: 'Loading features' })).toBeTruthy();
    expect(screen.getByRole('status', { name: 'Loading AI usage' })).toBeTruthy();
  });

  it('lists features with a sparkline and the AI totals, models, days and users', async () => {
    vi.spyOn(api, 'features').mockResolvedValue(features);
    vi.spyOn(api, 'aiUsage').mockResolvedValue(ai);
    render(<FeaturesAi project={project} />);
    const row = await screen.findByTestId('feature-export_pdf');
    expect(within(row).getByText('321')).toBeTruthy();
    expect(within(row).getByText('24.0%')).toBeTruthy();
    expect(within(row).getByRole('img', { name: 'export_pdf per day' }).querySelector('polyline')!.getAttribute('points')).toBe('0.0,21.2 120.0,2.0');
    expect(within(await screen.findByTestId('stat-ai-tokens')).getByText('1,500')).toBeTruthy();
    expect(within(screen.getByTestId('stat-ai-cost')).getByText('$0.25')).toBeTruthy();
    expect(within(screen.getByTestId('by-model')).getByText('gpt-4o')).toBeTruthy();
    expect(within(screen.getByTestId('by-model')).getByText('1,300')).toBeTruthy();
    expect(within(screen.getByTestId('by-user')).getByText('ann@example.com')).toBeTruthy();
    expect(screen.getByRole('listitem', { name: '02: 1,500' })).toBeTruthy();
  });

  it('explains how to send feature and ai_usage events when there are none', async () => {
    vi.spyOn(api, 'features').mockResolvedValue({ ...features, features: [] });
    vi.spyOn(api, 'aiUsage').mockResolvedValue(noAi);
    render(<FeaturesAi project={project} />);
    expect(await screen.findByText('No feature events yet')).toBeTruthy();
    expect(await screen.findByText('No AI usage yet')).toBeTruthy();
  });

  it('shows each section’s error on its own', async () => {
    vi.spyOn(api, 'features').mockResolvedValue(features);
    vi.spyOn(api, 'aiUsage').mockRejectedValue(new ApiError(500, 'internal', 'AI broke.'));
    render(<FeaturesAi project={project} />);
    expect((await screen.findByRole('alert')).textContent).toContain('AI broke.');
    expect(await screen.findByTestId('feature-export_pdf')).toBeTruthy();
  });
});
