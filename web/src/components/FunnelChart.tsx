// Conversion funnel: one bar per step, scaled to step 1, with drop-off.
import { memo, useEffect, useState } from 'react';
import { api } from '../api/client';
import type { FunnelStepResult } from '../api/types';
import { funnelBars, overallConversion } from '../lib/funnel';
import { fmtInt } from '../lib/format';
import { navigate } from '../lib/router';
import { useAsync } from '../lib/useAsync';
import { Empty, ErrorBanner, Skeleton } from './ui';

export function FunnelBars({ steps }: { steps: Pick<FunnelStepResult, 'name' | 'users'>[] }) {
  const bars = funnelBars(steps);
  return (
    <ol className="funnel">
      {bars.map((b, i) => (
        <li key={i} className={`funnel-step ${b.highDropOff ? 'high-drop' : ''}`} data-testid="funnel-step">
          <div className="funnel-label">
            <span className="funnel-name">
              {i + 1}. {b.name}
            </span>
            <span className="funnel-users">{fmtInt(b.users)} users</span>
          </div>
          <div className="funnel-track">
            <div className="funnel-bar" style={{ width: `${b.widthPct}%` }} />
          </div>
          <div className="funnel-stats">
            <span>{b.conversionPct.toFixed(1)}% of step 1</span>
            {i > 0 && (
              <span className={b.highDropOff ? 'drop-high' : 'muted'}>
                {b.highDropOff ? '⚠ ' : ''}
                {b.dropOffPct.toFixed(1)}% drop-off
              </span>
            )}
          </div>
        </li>
      ))}
    </ol>
  );
}

/**
 * `waitFor`: conversion is the most expensive query of the overview, so it is
 * asked for once the metric cards are in rather than competing with them.
 * `pollMs`: while the funnel is still being built on the server, how often to
 * ask again.
 */
export const FunnelChart = memo(function FunnelChart({
  projectId,
  days,
  waitFor = false,
  pollMs = 2000,
}: {
  projectId: string;
  days: number;
  waitFor?: boolean;
  pollMs?: number;
}) {
  const list = useAsync(() => api.funnels(projectId), [projectId]);
  const [selected, setSelected] = useState<string>('');
  const funnels = list.data?.funnels ?? [];
  useEffect(() => {
    if (funnels.length && !funnels.some((f) => f.id === selected)) setSelected(funnels[0].id);
  }, [funnels, selected]);
  const conv = useAsync(
    () => (selected && !waitFor ? api.conversion(projectId, selected, days) : Promise.resolve(null)),
    [projectId, selected, days, waitFor],
  );
  const steps = conv.data?.steps ?? [];
  const building = conv.data?.status === 'building';
  const { reload } = conv;
  useEffect(() => {
    if (!building) return;
    const t = setTimeout(reload, pollMs);
    return () => clearTimeout(t);
  }, [building, conv.data, reload, pollMs]);
  return (
    <section className="card funnel-card" aria-label="Funnel">
      <div className="card-head">
        <h2>Funnel</h2>
        {funnels.length > 0 && (
          <select aria-label="Choose funnel" value={selected} onChange={(e) => setSelected(e.target.value)}>
            {funnels.map((f) => (
              <option key={f.id} value={f.id}>
                {f.name}
              </option>
            ))}
          </select>
        )}
      </div>
      {list.error ? (
        <ErrorBanner error={list.error} onRetry={list.reload} />
      ) : list.loading && !list.data ? (
        <Skeleton height={200} label="Loading funnel" />
      ) : funnels.length === 0 ? (
        <Empty title="No funnels yet">
          Define the steps people take (e.g. <code>/pricing</code> → <code>/signup</code> → <code>signup_done</code>) in{' '}
          <a href="/settings" onClick={(e) => { e.preventDefault(); navigate('/settings'); }}>Settings → Funnels</a>.
        </Empty>
      ) : conv.error ? (
        <ErrorBanner error={conv.error} onRetry={conv.reload} />
      ) : !conv.data ? (
        <Skeleton height={200} label="Loading funnel" />
      ) : building ? (
        <Empty title="Building…">
          This funnel is being computed from the events stored so far ({conv.data.progress_pct ?? 0}%). Numbers appear when it is
          done.
        </Empty>
      ) : steps.length === 0 || steps[0].users === 0 ? (
        <Empty title="Nobody entered this funnel yet">People show up here once they reach its first step in the last {days} days.</Empty>
      ) : (
        <>
          <FunnelBars steps={steps} />
          <div className="muted small">
            Overall conversion {overallConversion(steps).toFixed(1)}% over the last {days} days.
          </div>
        </>
      )}
    </section>
  );
});
