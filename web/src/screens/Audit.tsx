// Audit: who changed which setting of the project, when and from where
// (GET /projects/{id}/audit-log, admins and owners). Newest first, filtered
// by actor, action and days; "Load more" follows the cursor.
import { useCallback, useEffect, useRef, useState } from 'react';
import { api } from '../api/client';
import type { AuditEntry, AuditFilters, Project } from '../api/types';
import { Empty, ErrorBanner, Skeleton } from '../components/ui';
import { fmtDateTime } from '../lib/format';
import { useAsync } from '../lib/useAsync';

export const PAGE_SIZE = 50;

/** The actions the server records (docs/api.md), for the filter. */
export const AUDIT_ACTIONS = [
  'project.update', 'identity_secret.rotate', 'key.create', 'key.revoke',
  'member.add', 'member.role_change', 'member.remove',
  'channel.update', 'inbox.create', 'inbox.automation_update',
  'team.create', 'team.rename', 'team.delete', 'team.member_add', 'team.member_remove',
  'sla_policy.put', 'sla_policy.delete', 'exchange_rates.put',
  'segment.create', 'segment.update', 'segment.delete',
  'flow.create', 'flow.update', 'flow.delete',
  'funnel.create', 'funnel.update', 'funnel.delete',
];

const NO_FILTERS: AuditFilters = { actor: '', action: '', from: '', to: '' };

/** `params` on one line, for the table (the full value is in the cell's title). */
export function paramsText(params: unknown): string {
  if (params === null || params === undefined) return '';
  if (typeof params === 'object' && Object.keys(params as object).length === 0) return '';
  return JSON.stringify(params);
}

function useAuditLog(projectId: string, filters: AuditFilters) {
  const [entries, setEntries] = useState<AuditEntry[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<Error | null>(null);
  const [tick, setTick] = useState(0);
  // Answers to an older request (filters changed meanwhile) are dropped.
  const call = useRef(0);
  const key = JSON.stringify(filters);
  const fetchPage = useCallback(
    (after: string | null) => {
      const mine = ++call.current;
      setLoading(true);
      setError(null);
      api.auditLog(projectId, filters, after, PAGE_SIZE).then(
        (page) => {
          if (mine !== call.current) return;
          setEntries((old) => (after ? [...old, ...page.entries] : page.entries));
          setCursor(page.next_cursor);
          setLoading(false);
        },
        (e: Error) => {
          if (mine !== call.current) return;
          if (!after) setEntries([]);
          setError(e);
          setLoading(false);
        },
      );
    },
    // `key` stands for the filters.
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [projectId, key],
  );
  useEffect(() => fetchPage(null), [fetchPage, tick]);
  const loadMore = useCallback(() => cursor && fetchPage(cursor), [cursor, fetchPage]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { entries, cursor, loading, error, loadMore, reload };
}

export function Audit({ project }: { project: Project }) {
  const [filters, setFilters] = useState<AuditFilters>(NO_FILTERS);
  const log = useAuditLog(project.id, filters);
  // The actor filter offers the members; failing that, it is just absent.
  const members = useAsync(() => api.members(project.id), [project.id]);
  const filtered = filters !== NO_FILTERS && JSON.stringify(filters) !== JSON.stringify(NO_FILTERS);
  const set = (k: keyof AuditFilters) => (e: { target: { value: string } }) => setFilters({ ...filters, [k]: e.target.value });
  return (
    <div className="page">
      <div className="page-head">
        <h1>Audit log</h1>
        <span className="muted small">Every settings change, who made it and from where.</span>
      </div>
      <section className="card" aria-label="Filters">
        <div className="filters">
          {members.data && (
            <select aria-label="Actor" value={filters.actor} onChange={set('actor')}>
              <option value="">Anyone</option>
              {members.data.members.map((m) => <option key={m.account_id} value={m.account_id}>{m.email}</option>)}
            </select>
          )}
          <select aria-label="Action" value={filters.action} onChange={set('action')}>
            <option value="">Any action</option>
            {AUDIT_ACTIONS.map((a) => <option key={a} value={a}>{a}</option>)}
          </select>
          <label className="small">From <input type="date" aria-label="From" value={filters.from} onChange={set('from')} /></label>
          <label className="small">To <input type="date" aria-label="To" value={filters.to} onChange={set('to')} /></label>
          {filtered && (
            <button type="button" className="btn btn-small btn-ghost" onClick={() => setFilters(NO_FILTERS)}>Clear filters</button>
          )}
        </div>
      </section>
      {log.error && <ErrorBanner error={log.error} onRetry={log.entries.length ? log.loadMore : log.reload} />}
      <section className="card" aria-label="Audit log">
        {log.loading && log.entries.length === 0 ? (
          <div className="stack">
            <Skeleton height={32} label="Loading the audit log" />
            <Skeleton height={32} />
          </div>
        ) : log.entries.length === 0 && !log.error ? (
          filtered ? (
            <Empty title="No entries match these filters">
              <button type="button" className="btn btn-small" onClick={() => setFilters(NO_FILTERS)}>Clear filters</button>
            </Empty>
          ) : (
            <Empty title="Nothing recorded yet">Changes to settings, members, keys, channels, teams and definitions appear here.</Empty>
          )
        ) : log.entries.length > 0 ? (
          <>
            <div className="table-scroll">
              <table className="data-table" data-testid="audit-table">
                <thead>
                  <tr>
                    <th>When</th>
                    <th>Who</th>
                    <th>Action</th>
                    <th>Resource</th>
                    <th>Details</th>
                    <th>IP</th>
                  </tr>
                </thead>
                <tbody>
                  {log.entries.map((e) => (
                    <tr key={e.id} data-testid="audit-row">
                      <td>{fmtDateTime(e.at)}</td>
                      <td>{e.actor.email}</td>
                      <td><code>{e.action}</code></td>
                      <td>{e.resource}</td>
                      <td className="small audit-params" title={paramsText(e.params)}>{paramsText(e.params)}</td>
                      <td className="muted small">{e.ip ?? '—'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            {log.cursor && (
              <div className="load-more">
                <button type="button" className="btn" disabled={log.loading} onClick={log.loadMore}>
                  {log.loading ? 'Loading…' : 'Load more'}
                </button>
              </div>
            )}
          </>
        ) : null}
      </section>
    </div>
  );
}
