// Active and new users per day, 7/30/90 days.
import { memo } from 'react';
import { Area, AreaChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { api } from '../api/client';
import { chartPoints, rangeBounds, RANGES, type RangeDays } from '../lib/chart';
import { useAsync } from '../lib/useAsync';
import { Empty, ErrorBanner, Skeleton } from './ui';

export function UsersChart({ projectId, range, onRange }: { projectId: string; range: RangeDays; onRange: (r: RangeDays) => void }) {
  const { from, to } = rangeBounds(range);
  const q = useAsync(() => api.daily(projectId, from, to), [projectId, from, to]);
  const points = q.data ? chartPoints(q.data.days) : [];
  const empty = points.every((p) => p.active === 0 && p.new === 0);
  return (
    <section className="card chart-card" aria-label="Users chart">
      <div className="card-head">
        <h2>Users</h2>
        <div className="segmented" role="group" aria-label="Range">
          {RANGES.map((r) => (
            <button key={r} type="button" className={r === range ? 'active' : ''} aria-pressed={r === range} onClick={() => onRange(r)}>
              {r} days
            </button>
          ))}
        </div>
      </div>
      {q.error ? (
        <ErrorBanner error={q.error} onRetry={q.reload} />
      ) : q.loading && !q.data ? (
        <Skeleton height={260} label="Loading chart" />
      ) : empty ? (
        <Empty title="No visits in this period yet">Add the snippet from the Integration page to your site; visits show up here the next day.</Empty>
      ) : (
        <div className="chart-box">
          <ResponsiveContainer width="100%" height={260}>
            <AreaChart data={points} margin={{ top: 8, right: 12, left: 0, bottom: 0 }}>
              <defs>
                <linearGradient id="gActive" x1="0" y1="0" x2="0" y2="1">
                  <stop offset="0%" stopColor="var(--accent)" stopOpacity={0.35} />
                  <stop offset="100%" stopColor="var(--accent)" stopOpacity={0} />
                </linearGradient>
              </defs>
              <CartesianGrid strokeDasharray="3 3" stroke="var(--border)" vertical={false} />
              <XAxis dataKey="label" tick={{ fontSize: 12 }} minTickGap={16} />
              <YAxis tick={{ fontSize: 12 }} width={48} allowDecimals={false} />
              <Tooltip />
              <Legend />
              <Area type="monotone" dataKey="active" name="Active users" stroke="var(--accent)" fill="url(#gActive)" strokeWidth={2} isAnimationActive={false} />
              <Area type="monotone" dataKey="new" name="New users" stroke="var(--good)" fill="none" strokeWidth={2} isAnimationActive={false} />
            </AreaChart>
          </ResponsiveContainer>
        </div>
      )}
    </section>
  );
}

// The live feed re-renders the overview every few seconds; the chart's inputs do not change.
export default memo(UsersChart);
