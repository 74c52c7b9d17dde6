import { fireEvent, render, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { api } from '../api/client';
import type { Features, Project, Revenue as RevenueReport } from '../api/types';
import { FeaturesAi } from '../screens/FeaturesAi';
import { Revenue } from '../screens/Revenue';
import { daysIn, presetBounds, rangeFromSearch, searchWithRange } from './DateRange';

const project = { id: 'p1', name: 'Shop' } as Project;
const now = new Date(2026, 11, 2, 15, 0);

beforeEach(() => history.replaceState(null, '', '/'));
afterEach(() => vi.restoreAllMocks());

describe('the date range in the URL query', () => {
  it('reads presets and custom ranges, and falls back to the default', () => {
    expect(presetBounds('7d', now)).toEqual({ from: '2026-11-26', to: '2026-12-02' });
    expect(presetBounds('90d', now)).toEqual({ from: '2026-09-04', to: '2026-12-02' });
    expect(presetBounds('12m', now)).toEqual({ from: '2026-01-01', to: '2026-12-02' });
    expect(rangeFromSearch('?range=7d', '30d', undefined, now)).toEqual({ from: '2026-11-26', to: '2026-12-02', preset: '7d' });
    expect(rangeFromSearch('', '30d', undefined, now)).toEqual({ from: '2026-11-03', to: '2026-12-02', preset: '30d' });
    expect(rangeFromSearch('?from=2026-01-05&to=2026-02-01', '30d', undefined, now)).toEqual({ from: '2026-01-05', to: '2026-02-01', preset: null });
    // Not offered here, malformed, or backwards: the default.
    expect(rangeFromSearch('?range=12m', '30d', undefined, now).preset).toBe('30d');
    expect(rangeFromSearch('?from=2026-1-5&to=2026-02-01', '30d', undefined, now).preset).toBe('30d');
    expect(rangeFromSearch('?from=2026-03-01&to=2026-02-01', '30d', undefined, now).preset).toBe('30d');
  });

  it('writes the range and keeps other parameters; the default preset is left out', () => {
    expect(searchWithRange('?x=1&from=2026-01-01&to=2026-01-02', { preset: '7d' }, '30d')).toBe('?x=1&range=7d');
    expect(searchWithRange('?range=7d', { preset: '30d' }, '30d')).toBe('');
    expect(searchWithRange('?range=7d', { from: '2026-01-01', to: '2026-01-31' }, '30d')).toBe('?from=2026-01-01&to=2026-01-31');
    expect(daysIn('2026-01-01', '2026-01-31')).toBe(31);
    expect(daysIn('2026-03-29', '2026-03-29')).toBe(1);
  });
});

const features: Features = { from: '', to: '', timezone: 'UTC', active_people: 0, features: [] };

describe('screens follow the date range', () => {
  it('Features & AI: a preset or custom dates change the URL and what is asked for', async () => {
    history.replaceState(null, '', '/features');
    const spy = vi.spyOn(api, 'features').mockResolvedValue(features);
    vi.spyOn(api, 'aiUsage').mockReturnValue(new Promise(() => undefined));
    vi.spyOn(api, 'flows').mockResolvedValue({ flows: [] });
    vi.spyOn(api, 'project').mockResolvedValue({ ...project, role: 'viewer' } as Project & { role: 'viewer' });
    render(<FeaturesAi project={project} />);
    const d30 = presetBounds('30d');
    expect(spy).toHaveBeenLastCalledWith('p1', d30.from, d30.to);
    expect(screen.getByRole('button', { name: '30 days' }).getAttribute('aria-pressed')).toBe('true');
    expect((screen.getByLabelText('From') as HTMLInputElement).value).toBe(d30.from);

    fireEvent.click(screen.getByRole('button', { name: '7 days' }));
    expect(location.pathname + location.search).toBe('/features?range=7d');
    const d7 = presetBounds('7d');
    await vi.waitFor(() => expect(spy).toHaveBeenLastCalledWith('p1', d7.from, d7.to));
    expect(screen.getByRole('button', { name: '7 days' }).getAttribute('aria-pressed')).toBe('true');

    fireEvent.change(screen.getByLabelText('From'), { target: { value: '2026-10-01' } });
    fireEvent.change(screen.getByLabelText('To'), { target: { value: '2026-10-15' } });
    expect(location.search).toBe('?from=2026-10-01&to=2026-10-15');
    await vi.waitFor(() => expect(spy).toHaveBeenLastCalledWith('p1', '2026-10-01', '2026-10-15'));
    expect(screen.getByRole('button', { name: '7 days' }).getAttribute('aria-pressed')).toBe('false');

    // From after To is not applied.
    fireEvent.change(screen.getByLabelText('From'), { target: { value: '2026-10-20' } });
    expect(screen.getByRole('alert').textContent).toContain('after');
    expect(location.search).toBe('?from=2026-10-01&to=2026-10-15');
  });

  it('Revenue: a range from the URL is asked for by day; the default 12 months by month', () => {
    const spy = vi.spyOn(api, 'revenue').mockReturnValue(new Promise<RevenueReport>(() => undefined));
    history.replaceState(null, '', '/revenue?from=2026-01-01&to=2026-01-31');
    const { unmount } = render(<Revenue project={project} />);
    expect(spy).toHaveBeenLastCalledWith('p1', '2026-01-01', '2026-01-31', 'day');
    unmount();
    history.replaceState(null, '', '/revenue');
    render(<Revenue project={project} />);
    const y = presetBounds('12m');
    expect(spy).toHaveBeenLastCalledWith('p1', y.from, y.to, 'month');
    expect(screen.getByRole('button', { name: '12 months' }).getAttribute('aria-pressed')).toBe('true');
  });
});
