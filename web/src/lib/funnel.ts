// Funnel maths: bar widths scaled to step 1, conversion and drop-off per step.
import type { FunnelStepResult } from '../api/types';

export interface FunnelBar {
  name: string;
  users: number;
  /** Bar width, 0–100, relative to step 1. */
  widthPct: number;
  /** Users / step-1 users × 100. */
  conversionPct: number;
  /** (previous − users) / previous × 100; 0 for step 1. */
  dropOffPct: number;
  highDropOff: boolean;
}

export const HIGH_DROP_OFF_PCT = 50;

export function funnelBars(steps: Pick<FunnelStepResult, 'name' | 'users'>[]): FunnelBar[] {
  const first = steps[0]?.users ?? 0;
  return steps.map((step, i) => {
    const prev = i === 0 ? step.users : steps[i - 1].users;
    const conversionPct = first > 0 ? (step.users / first) * 100 : 0;
    const dropOffPct = i === 0 || prev <= 0 ? 0 : ((prev - step.users) / prev) * 100;
    return {
      name: step.name,
      users: step.users,
      widthPct: first > 0 ? Math.max(0, Math.min(100, conversionPct)) : 0,
      conversionPct,
      dropOffPct,
      highDropOff: dropOffPct > HIGH_DROP_OFF_PCT,
    };
  });
}

/** Overall conversion: last step over first. */
export function overallConversion(steps: Pick<FunnelStepResult, 'users'>[]): number {
  if (steps.length === 0 || steps[0].users <= 0) return 0;
  return (steps[steps.length - 1].users / steps[0].users) * 100;
}
