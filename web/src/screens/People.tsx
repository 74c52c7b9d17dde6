// People: every tracked person of the project, searchable and filtered by a
// built-in or custom segment, a tag and a priority — all kept in the URL
// query, so a link reproduces the view. Rows page with the list's cursor and
// open the Contact page; selected rows can be tagged or untagged in bulk.
import { useCallback, useEffect, useRef, useState } from 'react';
import { api, ApiError, peopleQuery } from '../api/client';
import { PRIORITIES, type ListedPerson, type PeopleFilters, type Priority, type Project } from '../api/types';
import { Empty, ErrorBanner, Skeleton } from '../components/ui';
import { displayName, fmtDateTime, fmtInt, fmtMoney } from '../lib/format';
import { navigate } from '../lib/router';
import { useAsync } from '../lib/useAsync';

export const BUILTIN_SEGMENTS: { id: string; label: string }[] = [
  { id: 'all', label: 'All people' },
  { id: 'active', label: 'Active' },
  { id: 'inactive', label: 'Inactive' },
  { id: 'premium', label: 'Premium' },
  { id: 'trial', label: 'Trial' },
  { id: 'churned', label: 'Churned' },
];

const PAGE_SIZE = 50;

// The last view of the list, so the Contact page's "← People" returns to it.
let lastView = '';
export const peopleHref = () => `/people${lastView}`;
const SEARCH_DELAY_MS = 300;

/** The filters a `?q=&segment=&tag=&priority=` query names (unknown priorities dropped). */
export function readFilters(search: string): Required<PeopleFilters> {
  const s = new URLSearchParams(search);
  const priority = s.get('priority') ?? '';
  return {
    q: s.get('q') ?? '',
    segment: s.get('segment') || 'all',
    tag: s.get('tag') ?? '',
    priority: (PRIORITIES as string[]).includes(priority) ? (priority as Priority) : '',
  };
}

export const hasFilters = (f: PeopleFilters) => Boolean(f.q?.trim() || (f.segment && f.segment !== 'all') || f.tag || f.priority);

/** A tag as the server stores it: trimmed and lowercased. */
export const normalizeTag = (t: string) => t.trim().toLowerCase();

/** The person's tag set after adding or removing `tag`. */
export function retag(tags: string[], tag: string, add: boolean): string[] {
  const t = normalizeTag(tag);
  const rest = tags.filter((x) => x !== t);
  return add ? [...rest, t].sort() : rest;
}

export function PriorityBadge({ priority }: { priority: Priority | null }) {
  if (!priority) return <span className="muted">—</span>;
  return <span className={`badge prio prio-${priority}`}>{priority}</span>;
}

export function TagChips({ tags }: { tags: string[] }) {
  if (tags.length === 0) return <span className="muted">—</span>;
  return (
    <span className="chips">
      {tags.map((t) => (
        <span key={t} className="chip">{t}</span>
      ))}
    </span>
  );
}

function usePeopleList(projectId: string, filters: PeopleFilters) {
  const [users, setUsers] = useState<ListedPerson[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [currency, setCurrency] = useState('USD');
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<Error | null>(null);
  const [tick, setTick] = useState(0);
  const call = useRef(0);
  const key = peopleQuery(filters);
  useEffect(() => {
    const mine = ++call.current;
    setLoading(true);
    setError(null);
    api.people(projectId, filters, null, PAGE_SIZE).then(
      (r) => {
        if (mine !== call.current) return;
        setUsers(r.users);
        setCursor(r.next_cursor);
        setCurrency(r.currency ?? 'USD');
        setLoading(false);
      },
      (e: Error) => {
        if (mine !== call.current) return;
        setUsers([]);
        setCursor(null);
        setError(e);
        setLoading(false);
      },
    );
    // `key` stands for the filters.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [projectId, key, tick]);
  const loadMore = useCallback(() => {
    if (!cursor) return;
    const mine = ++call.current;
    setLoading(true);
    setError(null);
    api.people(projectId, filters, cursor, PAGE_SIZE).then(
      (r) => {
        if (mine !== call.current) return;
        setUsers((u) => [...u, ...r.users]);
        setCursor(r.next_cursor);
        setLoading(false);
      },
      (e: Error) => {
        if (mine !== call.current) return;
        setError(e);
        setLoading(false);
      },
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [projectId, key, cursor]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { users, cursor, currency, loading, error, loadMore, reload };
}

interface BulkState {
  verb: 'Tagging' | 'Untagging';
  done: number;
  total: number;
}

export function People({ project }: { project: Project }) {
  const [filters, setFiltersState] = useState(() => readFilters(location.search));
  lastView = peopleQuery(filters);
  const [text, setText] = useState(filters.q);
  const setFilters = useCallback((f: Required<PeopleFilters>) => {
    setFiltersState(f);
    lastView = peopleQuery(f);
    history.replaceState(null, '', `/people${lastView}`);
  }, []);
  // Back/forward within the app: the URL wins.
  useEffect(() => {
    const on = () => {
      if (location.pathname !== '/people') return;
      const f = readFilters(location.search);
      setFiltersState(f);
      setText(f.q);
    };
    window.addEventListener('popstate', on);
    return () => window.removeEventListener('popstate', on);
  }, []);
  // The search box applies after a short pause in typing.
  useEffect(() => {
    if (text === filters.q) return;
    const t = setTimeout(() => setFilters({ ...filters, q: text }), SEARCH_DELAY_MS);
    return () => clearTimeout(t);
  }, [text, filters, setFilters]);

  const list = usePeopleList(project.id, filters);
  const tags = useAsync(() => api.tags(project.id), [project.id]);
  const segments = useAsync(() => api.segments(project.id), [project.id]);
  const custom = segments.data?.segments ?? [];

  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [rowErrors, setRowErrors] = useState<Record<string, string>>({});
  const [bulkTag, setBulkTag] = useState('');
  const [bulk, setBulk] = useState<BulkState | null>(null);
  const [bulkDone, setBulkDone] = useState<string | null>(null);
  // A new view starts with nothing selected.
  useEffect(() => {
    setSelected(new Set());
    setRowErrors({});
    setBulkDone(null);
  }, [project.id, peopleQuery(filters)]);

  const pageIds = list.users.map((u) => u.id);
  const allSelected = pageIds.length > 0 && pageIds.every((id) => selected.has(id));
  const toggle = (id: string) =>
    setSelected((s) => {
      const next = new Set(s);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  const toggleAll = () => setSelected(allSelected ? new Set() : new Set(pageIds));

  const applyBulk = async (add: boolean) => {
    const tag = normalizeTag(bulkTag);
    if (!tag || selected.size === 0 || bulk) return;
    const people = list.users.filter((u) => selected.has(u.id));
    const verb = add ? 'Tagging' : 'Untagging';
    const errors: Record<string, string> = {};
    setRowErrors({});
    setBulkDone(null);
    for (let i = 0; i < people.length; i++) {
      setBulk({ verb, done: i + 1, total: people.length });
      const u = people[i];
      try {
        await api.updateContact(project.id, u.id, { tags: retag(u.tags, tag, add) });
      } catch (e) {
        errors[u.id] = e instanceof ApiError && e.field ? `${e.message} (${e.field})` : (e as Error).message;
      }
    }
    const failed = Object.keys(errors).length;
    const ok = people.length - failed;
    setBulk(null);
    setRowErrors(errors);
    setSelected(new Set(Object.keys(errors)));
    setBulkDone(
      `${add ? 'Tagged' : 'Untagged'} ${fmtInt(ok)} of ${fmtInt(people.length)} ${people.length === 1 ? 'person' : 'people'} “${tag}”` +
        (failed ? `; ${fmtInt(failed)} failed.` : '.'),
    );
    list.reload();
    tags.reload();
  };

  const tagOptions = tags.data?.tags ?? [];
  const filtered = hasFilters(filters);
  const who = (u: ListedPerson) => displayName(u);
  const open = (u: ListedPerson) => navigate(`/people/${encodeURIComponent(u.id)}`);
  const clear = () => {
    setText('');
    setFilters({ q: '', segment: 'all', tag: '', priority: '' });
  };

  return (
    <div className="page">
      <div className="page-head">
        <h1>People</h1>
        <span className="muted small">{list.users.length > 0 && `${fmtInt(list.users.length)}${list.cursor ? '+' : ''} shown`}</span>
      </div>
      <section className="card" aria-label="Filters">
        <div className="filters">
          <input
            type="search"
            aria-label="Search people"
            placeholder="Search name, email or id"
            value={text}
            onChange={(e) => setText(e.target.value)}
          />
          <select aria-label="Segment" value={filters.segment} onChange={(e) => setFilters({ ...filters, segment: e.target.value })}>
            <optgroup label="Built-in">
              {BUILTIN_SEGMENTS.map((s) => <option key={s.id} value={s.id}>{s.label}</option>)}
            </optgroup>
            {(custom.length > 0 || !BUILTIN_SEGMENTS.some((s) => s.id === filters.segment)) && (
              <optgroup label="Custom segments">
                {custom.map((s) => <option key={s.id} value={s.id}>{s.name} ({fmtInt(s.user_count)})</option>)}
                {!BUILTIN_SEGMENTS.some((s) => s.id === filters.segment) && !custom.some((s) => s.id === filters.segment) && (
                  <option value={filters.segment}>{segments.data ? 'Unknown segment' : 'Loading…'}</option>
                )}
              </optgroup>
            )}
          </select>
          <select aria-label="Tag" value={filters.tag} onChange={(e) => setFilters({ ...filters, tag: e.target.value })}>
            <option value="">Any tag</option>
            {tagOptions.map((t) => <option key={t.tag} value={t.tag}>{t.tag} ({fmtInt(t.count)})</option>)}
            {filters.tag && !tagOptions.some((t) => t.tag === filters.tag) && <option value={filters.tag}>{filters.tag}</option>}
          </select>
          <select aria-label="Priority" value={filters.priority} onChange={(e) => setFilters({ ...filters, priority: e.target.value as Priority | '' })}>
            <option value="">Any priority</option>
            {PRIORITIES.map((p) => <option key={p} value={p}>{p}</option>)}
          </select>
          {filtered && (
            <button type="button" className="btn btn-small btn-ghost" onClick={clear}>Clear filters</button>
          )}
        </div>
        {selected.size > 0 || bulk || bulkDone ? (
          <div className="bulk-bar" aria-label="Bulk tag" role="group">
            <span>{fmtInt(selected.size)} selected</span>
            <input
              aria-label="Tag to add or remove"
              placeholder="tag"
              list="people-tags"
              value={bulkTag}
              maxLength={32}
              onChange={(e) => setBulkTag(e.target.value)}
            />
            <datalist id="people-tags">
              {tagOptions.map((t) => <option key={t.tag} value={t.tag} />)}
            </datalist>
            <button type="button" className="btn btn-small btn-primary" disabled={!!bulk || !normalizeTag(bulkTag) || selected.size === 0} onClick={() => applyBulk(true)}>
              Add tag
            </button>
            <button type="button" className="btn btn-small" disabled={!!bulk || !normalizeTag(bulkTag) || selected.size === 0} onClick={() => applyBulk(false)}>
              Remove tag
            </button>
            {bulk && (
              <span role="status" data-testid="bulk-progress">
                {bulk.verb} {fmtInt(bulk.done)} of {fmtInt(bulk.total)}…
              </span>
            )}
            {!bulk && bulkDone && (
              <span role="status" data-testid="bulk-done" className={Object.keys(rowErrors).length ? 'drop-high' : 'muted'}>
                {bulkDone}
              </span>
            )}
          </div>
        ) : null}
      </section>
      {list.error && <ErrorBanner error={list.error} onRetry={list.users.length ? list.loadMore : list.reload} />}
      <section className="card" aria-label="People">
        {list.loading && list.users.length === 0 ? (
          <div className="stack">
            <Skeleton height={32} label="Loading people" />
            <Skeleton height={32} />
            <Skeleton height={32} />
          </div>
        ) : list.users.length === 0 && !list.error ? (
          filtered ? (
            <Empty title="No people match these filters">
              <button type="button" className="btn btn-small" onClick={clear}>Clear filters</button>
            </Empty>
          ) : (
            <Empty title="No people yet">People appear here once your site's snippet or your server sends events.</Empty>
          )
        ) : list.users.length > 0 ? (
          <>
            <div className="table-scroll">
              <table className="data-table people-table" data-testid="people-table">
                <thead>
                  <tr>
                    <th className="check">
                      <input type="checkbox" aria-label="Select all on this page" checked={allSelected} onChange={toggleAll} />
                    </th>
                    <th>Person</th>
                    <th>Tags</th>
                    <th>Priority</th>
                    <th className="num">Total spent</th>
                    <th className="num">Sessions</th>
                    <th>Last seen</th>
                  </tr>
                </thead>
                <tbody>
                  {list.users.map((u) => {
                    const w = who(u);
                    const err = rowErrors[u.id];
                    return (
                      <tr
                        key={u.id}
                        className="clickable"
                        tabIndex={0}
                        data-testid="person-row"
                        data-uid={u.id}
                        onClick={() => open(u)}
                        onKeyDown={(e) => {
                          if (e.key === 'Enter' && e.target === e.currentTarget) open(u);
                        }}
                      >
                        <td className="check" onClick={(e) => e.stopPropagation()}>
                          <input type="checkbox" aria-label={`Select ${w.primary}`} checked={selected.has(u.id)} onChange={() => toggle(u.id)} />
                        </td>
                        <td className="cell-user">
                          <span className={w.anonymous ? 'anon' : 'ident'}>{w.primary}</span>
                          {w.secondary && <span className="muted small"> {w.secondary}</span>}
                          {err && (
                            <div className="drop-high small" data-testid="row-error" role="alert">
                              {err}
                            </div>
                          )}
                        </td>
                        <td><TagChips tags={u.tags ?? []} /></td>
                        <td><PriorityBadge priority={u.priority ?? null} /></td>
                        <td className="num">
                          {fmtMoney(u.total_spent ?? 0, list.currency)}
                          {(u.unconverted_spent ?? []).map((x) => (
                            <span key={x.currency} className="muted small" title="No exchange rate"> + {fmtMoney(x.amount, x.currency)}</span>
                          ))}
                        </td>
                        <td className="num">{fmtInt(u.total_sessions ?? 0)}</td>
                        <td>{fmtDateTime(u.last_seen)}</td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
            {list.cursor && (
              <button type="button" className="btn load-more" disabled={list.loading} onClick={list.loadMore}>
                {list.loading ? 'Loading…' : 'Load more'}
              </button>
            )}
          </>
        ) : null}
      </section>
    </div>
  );
}
