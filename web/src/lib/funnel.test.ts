import { describe, expect, it } from 'vitest';
import { funnelBars, overallConversion } from './funnel';

describe('funnel maths', () => {
  const steps = [
    { name: 'Pricing', users: 200 },
    { name: 'Sign-up', users: 120 },
    { name: 'Paid', users: 30 },
  ];

  it('scales bars to step 1 and computes conversion and drop-off', () => {
    const bars = funnelBars(steps);
    expect(bars.map((b) => b.widthPct)).toEqual([100, 60, 15]);
    expect(bars.map((b) => b.conversionPct)).toEqual([100, 60, 15]);
    expect(bars[0].dropOffPct).toBe(0);
    expect(bars[1].dropOffPct).toBeCloseTo(40);
    expect(bars[2].dropOffPct).toBeCloseTo(75);
  });

  it('highlights a drop-off above 50% only', () => {
    const bars = funnelBars([
      { name: 'a', users: 100 },
      { name: 'b', users: 50 },
      { name: 'c', users: 24 },
    ]);
    expect(bars.map((b) => b.highDropOff)).toEqual([false, false, true]);
  });

  it('handles an empty first step and no steps without dividing by zero', () => {
    const bars = funnelBars([
      { name: 'a', users: 0 },
      { name: 'b', users: 0 },
    ]);
    expect(bars.every((b) => b.widthPct === 0 && b.conversionPct === 0 && b.dropOffPct === 0)).toBe(true);
    expect(funnelBars([])).toEqual([]);
    expect(overallConversion([])).toBe(0);
  });

  it('computes overall conversion from first to last step', () => {
    expect(overallConversion(steps)).toBe(15);
  });
});
