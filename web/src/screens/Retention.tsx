// Retention: what share of each day's (or week's) new people came back on day
// 1, 7 and 30, as a heatmap, with the overall figures as cards.
import { useState } from 'react';
import { api } from '../api/client';
import type { Project, Retention as RetentionReport, RetentionDay } from '../api/types';
import { DateRange, useDateRange } from '../components/DateRange';
import { Segmented, StatCard } from '../components/Insights';
import { Empty, ErrorBanner, Skeleton } from '../components/ui';
import { fmtInt, fmtPct } from '../lib/format';
import { useAsync } from '../lib/useAsync';

const DAYS: RetentionDay[] = ['1', '7', '30'];

/** Background of a heatmap cell: the accent colour, stronger for higher retention. */
export function heatColor(pct: number | null): string | undefined {
  if (pct === null) return undefined;
  const alpha = 0.08 + (Math.min(100, Math.max(0, pct)) / 100) * 0.8;
  return `rgba(91, 75, 219, ${alpha.toFixed(2)})`;
}

export function RetentionView({ report }: { report: RetentionReport }) {
  // Newest cohort first, the way people read it.
  const rows = [...report.cohorts].reverse();
  return (
    <>
      <div className="metric-grid">
        <StatCard id="day1" title="Day 1" value={fmtPct(report.overall.day1)} hint="came back the next day" />
        <StatCard id="day7" title="Day 7" value={fmtPct(report.overall.day7)} hint="came back a week later" />
        <StatCard id="day30" title="Day 30" value={fmtPct(report.overall.day30)} hint="came back a month later" />
        <StatCard id="people" title="New people" value={fmtInt(report.cohorts.reduce((n, c) => n + c.size, 0))} hint={`${report.from} – ${report.to}`} />
      </div>
      <section className="card" aria-label="Cohorts">
        <div className="card-head">
          <h2>Cohorts</h2>
          <span className="muted small">– = not reached yet · {report.timezone}</span>
        </div>
        <div className="table-scroll">
          <table className="data-table heatmap" data-testid="heatmap">
            <thead>
              <tr>
                <th>{report.cohort === 'week' ? 'Week of' : 'Day'}</th>
                <th className="num">People</th>
                {DAYS.map((d) => <th key={d} className="num">Day {d}</th>)}
              </tr>
            </thead>
            <tbody>
              {rows.map((c) => (
                <tr key={c.cohort} data-testid={`cohort-${c.cohort}`}>
                  <td>{c.cohort}</td>
                  <td className="num">{fmtInt(c.size)}</td>
                  {DAYS.map((d) => {
                    const pct = c.pct[d];
                    const strong = pct !== null && pct >= 50;
                    return (
                      <td
                        key={d}
                        className={`heat ${pct === null ? 'heat-none' : ''}`}
                        style={{ background: heatColor(pct), color: strong ? '#fff' : undefined }}
                        title={pct === null ? 'not reached yet' : `${fmtInt(c.retained[d] ?? 0)} of ${fmtInt(c.size)}`}
                      >
                        {fmtPct(pct)}
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </>
  );
}

export function Retention({ project }: { project: Project }) {
  const [cohort, setCohort] = useState<'day' | 'week'>('week');
  const range = useDateRange('90d');
  const q = useAsync(() => api.retention(project.id, cohort, range.from, range.to), [project.id, cohort, range.from, range.to]);
  const empty = q.data && q.data.cohorts.every((c) => c.size === 0);
  return (
    <div className="page">
      <div className="page-head">
        <h1>Retention</h1>
        <DateRange state={range} />
        <Segmented
          label="Cohort"
          value={cohort}
          onChange={setCohort}
          options={[{ id: 'day', label: 'Daily cohorts' }, { id: 'week', label: 'Weekly cohorts' }]}
        />
      </div>
      {q.error ? (
        <ErrorBanner error={q.error} onRetry={q.reload} />
      ) : !q.data || (q.loading && (q.data.cohort !== cohort || q.data.from !== range.from || q.data.to !== range.to)) ? (
        <>
          <div className="metric-grid">
            {['Day 1', 'Day 7', 'Day 30', 'New people'].map((t) => <StatCard key={t} id={t} title={t} value={null} />)}
          </div>
          <section className="card"><Skeleton height={240} label="Loading retention" /></section>
        </>
      ) : empty ? (
        <section className="card">
          <Empty title="No new people in this range">
            A cohort is the people first seen on a day (or week). They appear once your snippet sends page views, or your
            server sends events with <code>POST /api/v1/track</code>; retention is whether they come back on day 1, 7 and 30.
          </Empty>
        </section>
      ) : (
        <RetentionView report={q.data} />
      )}
    </div>
  );
}
