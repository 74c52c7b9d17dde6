// The CRM overview: cards, users chart, funnel, and the live people table.
import { lazy, Suspense, useCallback, useEffect, useState } from 'react';
import { api, downloads } from '../api/client';
import type { Metrics, Project, Segment, SiteUser } from '../api/types';
import { MetricCards } from '../components/MetricCards';
import { FunnelChart } from '../components/FunnelChart';
import { OnlineTable, PeopleTable } from '../components/ActiveUsersTable';
import { UserModal } from '../components/UserModal';
import { Empty, ErrorBanner, Skeleton } from '../components/ui';
import { rangeBounds, type RangeDays } from '../lib/chart';
import type { LiveState, LiveStatus } from '../lib/live';
import { navigate } from '../lib/router';
import { useAsync } from '../lib/useAsync';

// Recharts is the largest dependency: a separate chunk, fetched while the app
// signs in (preloadChart) rather than when the overview first renders.
const loadChart = () => import('../components/UsersChart');
const UsersChart = lazy(loadChart);
export function preloadChart() {
  void loadChart();
}

type Tab = 'online' | Segment;
const TABS: { id: Tab; label: string }[] = [
  { id: 'online', label: 'Online now' },
  { id: 'all', label: 'All' },
  { id: 'active', label: 'Active' },
  { id: 'inactive', label: 'Inactive' },
  { id: 'premium', label: 'Premium' },
  { id: 'trial', label: 'Trial' },
  { id: 'churned', label: 'Churned' },
];

const STATUS_TEXT: Record<LiveStatus, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  polling: 'Polling',
};

export function ConnectionPill({ status }: { status: LiveStatus }) {
  return (
    <span className={`pill pill-${status}`} role="status" aria-live="polite" data-testid="connection" data-status={status}>
      <span className="dot" aria-hidden="true" /> {STATUS_TEXT[status]}
    </span>
  );
}

/** Cards from the live feed when it is up; otherwise /metrics with Online Now from the polled list. */
export function effectiveMetrics(fetched: Metrics | undefined, live: LiveState): Metrics | null {
  if (live.status === 'live' && live.metrics) return live.metrics;
  if (!fetched) return null;
  if (!live.loaded) return fetched;
  return { ...fetched, online_now: { ...fetched.online_now, value: live.visitors.length } };
}

function usePeople(projectId: string, segment: Segment | null) {
  const [users, setUsers] = useState<SiteUser[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (!segment) return;
    let gone = false;
    setUsers([]);
    setCursor(null);
    setLoading(true);
    setError(null);
    api.users(projectId, segment).then(
      (r) => {
        if (gone) return;
        setUsers(r.users);
        setCursor(r.next_cursor);
        setLoading(false);
      },
      (e: Error) => {
        if (gone) return;
        setError(e);
        setLoading(false);
      },
    );
    return () => {
      gone = true;
    };
  }, [projectId, segment, tick]);
  const more = useCallback(() => {
    if (!segment || !cursor || loading) return;
    setLoading(true);
    api.users(projectId, segment, cursor).then(
      (r) => {
        setUsers((u) => [...u, ...r.users]);
        setCursor(r.next_cursor);
        setLoading(false);
      },
      (e: Error) => {
        setError(e);
        setLoading(false);
      },
    );
  }, [projectId, segment, cursor, loading]);
  return { users, loading, error, more, hasMore: !!cursor, retry: () => setTick((t) => t + 1) };
}

export function Overview({ project, live }: { project: Project; live: LiveState }) {
  const [range, setRange] = useState<RangeDays>(30);
  const [tab, setTab] = useState<Tab>('online');
  const [openUid, setOpenUid] = useState<string | null>(null);
  const metricsQ = useAsync(() => api.metrics(project.id), [project.id]);
  // Without the socket the cards are refreshed every 30 s.
  useEffect(() => {
    if (live.status === 'live') return;
    const t = setInterval(metricsQ.reload, 30_000);
    return () => clearInterval(t);
  }, [live.status, metricsQ.reload]);
  const people = usePeople(project.id, tab === 'online' ? null : tab);
  const metrics = effectiveMetrics(metricsQ.data, live);
  const { from, to } = rangeBounds(range);
  const exportSegment: Segment = tab === 'online' ? 'active' : tab;
  const close = useCallback(() => setOpenUid(null), []);

  return (
    <div className="page">
      <div className="page-head">
        <h1>{project.name}</h1>
        <div className="page-actions">
          <ConnectionPill status={live.status} />
          <a className="btn" href={downloads.usersCsv(project.id, exportSegment)} download data-testid="export-users">
            ⬇ Users CSV
          </a>
          <a className="btn" href={downloads.metricsCsv(project.id, from, to)} download data-testid="export-metrics">
            ⬇ Metrics CSV
          </a>
        </div>
      </div>
      {metricsQ.error && !metrics && <ErrorBanner error={metricsQ.error} onRetry={metricsQ.reload} />}
      <MetricCards metrics={metrics} loading={metricsQ.loading} live={live.status === 'live'} />
      <div className="chart-grid">
        <Suspense fallback={<section className="card"><Skeleton height={300} label="Loading chart" /></section>}>
          <UsersChart projectId={project.id} range={range} onRange={setRange} />
        </Suspense>
        <FunnelChart projectId={project.id} days={range} waitFor={!metricsQ.data && !metricsQ.error} />
      </div>
      <section className="card" aria-label="People">
        <div className="card-head">
          <h2>{tab === 'online' ? `Online now (${live.visitors.length})` : 'People'}</h2>
          <div className="tabs" role="tablist" aria-label="Segment">
            {TABS.map((t) => (
              <button key={t.id} role="tab" type="button" aria-selected={tab === t.id} className={tab === t.id ? 'active' : ''} onClick={() => setTab(t.id)}>
                {t.label}
              </button>
            ))}
          </div>
        </div>
        {tab === 'online' ? (
          !live.loaded ? (
            <Skeleton height={200} label="Loading visitors" />
          ) : live.visitors.length === 0 ? (
            <Empty title="Nobody is online right now">
              Visitors appear here the moment they open a page with your snippet. Haven't installed it yet?{' '}
              <a href="/integration" onClick={(e) => { e.preventDefault(); navigate('/integration'); }}>Get the snippet</a>.
            </Empty>
          ) : (
            <OnlineTable visitors={live.visitors} onOpen={(v) => setOpenUid(v.site_user_id)} />
          )
        ) : people.error ? (
          <ErrorBanner error={people.error} onRetry={people.retry} />
        ) : people.loading && people.users.length === 0 ? (
          <Skeleton height={200} label="Loading people" />
        ) : people.users.length === 0 ? (
          <Empty title="Nobody in this segment">
            Segments use the <code>plan</code> trait (<code>vibeIdentify(id, {'{'}plan: 'trial'{'}'})</code>) and when people were last seen.
          </Empty>
        ) : (
          <>
            <PeopleTable users={people.users} onOpen={(u) => setOpenUid(u.id)} onNearEnd={people.more} />
            {people.hasMore && (
              <button type="button" className="btn btn-small load-more" onClick={people.more} disabled={people.loading}>
                {people.loading ? 'Loading…' : 'Load more'}
              </button>
            )}
          </>
        )}
      </section>
      {openUid && <UserModal projectId={project.id} uid={openUid} onClose={close} />}
    </div>
  );
}
