import { render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { api } from '../api/client';
import type { Funnel } from '../api/types';
import { FunnelChart } from './FunnelChart';

const funnel: Funnel = {
  id: 'f1',
  name: 'Signup',
  steps: [
    { match: 'page', value: '/' },
    { match: 'page', value: '/pricing' },
  ],
  window_days: 7,
  created_at: 0,
  updated_at: 0,
  status: 'building',
  progress_pct: 40,
};

afterEach(() => vi.restoreAllMocks());

describe('FunnelChart', () => {
  it('shows "Building…" while the funnel is built, then polls until the numbers are in', async () => {
    vi.spyOn(api, 'funnels').mockResolvedValue({ funnels: [funnel] });
    const conversion = vi
      .spyOn(api, 'conversion')
      .mockResolvedValueOnce({ steps: null, days: 30, status: 'building', progress_pct: 40 })
      .mockResolvedValue({
        days: 30,
        status: 'ready',
        steps: [
          { name: '/', users: 10, conversion_pct: 100, drop_off_pct: 0, high_drop_off: false },
          { name: '/pricing', users: 4, conversion_pct: 40, drop_off_pct: 60, high_drop_off: true },
        ],
      });
    render(<FunnelChart projectId="p1" days={30} pollMs={10} />);
    expect(await screen.findByText('Building…')).toBeTruthy();
    expect(screen.getByText(/40%/)).toBeTruthy();
    expect(await screen.findByText('10 users')).toBeTruthy();
    expect(screen.queryByText('Building…')).toBeNull();
    expect(conversion).toHaveBeenCalledTimes(2);
  });
});
