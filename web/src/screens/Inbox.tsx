// Inbox (issue 12 item 2): the conversations of the project within the
// caller's scope, filtered by status, assignee, channel, priority, a
// search and a Support heatmap cell (created on a local weekday and hour,
// shown as a removable chip) — all kept in the URL query — beside the open thread (`/inbox/{cid}`)
// and the contact's profile. Viewers get 403 from the API and see a clear
// "no access" state. The list and the open thread follow the live feed's
// `inbox.*` events (lib/inboxLive.ts); a poll remains as the fallback: every
// 30 s while the socket is open, every 5 s while it is not
// (docs/architecture.md, "Live Inbox events").
import { useCallback, useEffect, useRef, useState } from 'react';
import { api, ApiError, downloads, inboxQuery } from '../api/client';
import {
  CHANNELS, CONVERSATION_PRIORITIES, type Account, type Conversation, type CreatedCell, type InboxFilters, type Project,
} from '../api/types';
import { ContactSummary } from '../components/inbox/ContactSummary';
import { ConversationList, DEFAULT_FILTERS, hasInboxFilters, InboxFilterBar, STATUS_TABS } from '../components/inbox/ConversationList';
import { ConversationView } from '../components/inbox/ConversationView';
import { Empty } from '../components/ui';
import { applyToList, InboxSocket, type InboxEvent } from '../lib/inboxLive';
import { navigate } from '../lib/router';
import { useAsync } from '../lib/useAsync';
import { INBOX_FALLBACK_POLL_MS, INBOX_POLL_MS, usePolling } from '../lib/usePolling';

const PAGE = 50;
const SEARCH_DELAY_MS = 300;

/** Account ids are short tokens; anything else in `assignee` is dropped. */
const ACCOUNT_ID_RE = /^[A-Za-z0-9_.:-]{1,64}$/;
const assigneeParam = (v: string | null): InboxFilters['assignee'] =>
  !v ? '' : v === 'me' || v === 'none' || ACCOUNT_ID_RE.test(v) ? v : '';

const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;
const intIn = (v: string | null, max: number) => (v !== null && /^\d{1,2}$/.test(v) && Number(v) <= max ? Number(v) : null);

/** The heatmap cell of `created_from`, `created_to` (local days), `created_dow` and
 * `created_hour`; none unless all four are valid. */
function createdParam(s: URLSearchParams): CreatedCell | null {
  const from = s.get('created_from') ?? '';
  const to = s.get('created_to') ?? '';
  const dow = intIn(s.get('created_dow'), 6);
  const hour = intIn(s.get('created_hour'), 23);
  return DAY_RE.test(from) && DAY_RE.test(to) && from <= to && dow !== null && hour !== null ? { from, to, dow, hour } : null;
}

/** The filters a `?status=&assignee=&channel=&priority=&q=&created_from=&created_to=&created_dow=&created_hour=`
 * query names (unknown values dropped); `assignee` is `me`, `none` or an agent's account id and
 * `created_*` a heatmap cell (the Support page's drill-downs). */
export function readInboxFilters(search: string): InboxFilters {
  const s = new URLSearchParams(search);
  const pick = <T extends string>(v: string | null, allowed: readonly T[], dflt: T | ''): T | '' =>
    v && (allowed as readonly string[]).includes(v) ? (v as T) : dflt;
  const created = createdParam(s);
  return {
    status: pick(s.get('status'), STATUS_TABS.map((t) => t.id), 'open') || 'open',
    assignee: assigneeParam(s.get('assignee')),
    channel: pick(s.get('channel'), CHANNELS, ''),
    priority: pick(s.get('priority'), CONVERSATION_PRIORITIES, ''),
    q: s.get('q') ?? '',
    ...(created ? { created } : {}),
  } as InboxFilters;
}

/** The URL query of the filters, without the defaults. */
export function viewQuery(f: InboxFilters): string {
  const s = new URLSearchParams();
  if (f.status !== 'open') s.set('status', f.status);
  if (f.assignee) s.set('assignee', f.assignee);
  if (f.channel) s.set('channel', f.channel);
  if (f.priority) s.set('priority', f.priority);
  if (f.q.trim()) s.set('q', f.q.trim());
  if (f.created) {
    s.set('created_from', f.created.from);
    s.set('created_to', f.created.to);
    s.set('created_dow', String(f.created.dow));
    s.set('created_hour', String(f.created.hour));
  }
  const str = s.toString();
  return str ? `?${str}` : '';
}

export const isForbidden = (e: unknown) => e instanceof ApiError && e.status === 403;

function useConversationList(projectId: string, filters: InboxFilters, me: string) {
  const [items, setItems] = useState<Conversation[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<Error | null>(null);
  const [tick, setTick] = useState(0);
  const call = useRef(0);
  const shown = useRef(0);
  shown.current = items.length;
  const key = inboxQuery(filters);
  useEffect(() => {
    const mine = ++call.current;
    setLoading(true);
    setError(null);
    setItems([]);
    api.conversations(projectId, filters, null, PAGE).then(
      (r) => {
        if (mine !== call.current) return;
        setItems(r.conversations);
        setCursor(r.next_cursor);
        setLoading(false);
      },
      (e: Error) => {
        if (mine !== call.current) return;
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
    api.conversations(projectId, filters, cursor, PAGE).then(
      (r) => {
        if (mine !== call.current) return;
        setItems((old) => [...old, ...r.conversations.filter((c) => !old.some((o) => o.id === c.id))]);
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
  /** Quietly asks again for as many as are shown (the poll); a failure keeps the list. */
  const refresh = useCallback(() => {
    const mine = ++call.current;
    api.conversations(projectId, filters, null, Math.min(100, Math.max(PAGE, shown.current))).then(
      (r) => {
        if (mine !== call.current) return;
        setItems(r.conversations);
        setCursor(r.next_cursor);
        setError(null);
        setLoading(false);
      },
      () => undefined,
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [projectId, key]);
  const replace = useCallback((c: Conversation) => setItems((old) => old.map((o) => (o.id === c.id ? c : o))), []);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  const latest = useRef({ filters, me });
  latest.current = { filters, me };
  const apply = useCallback(
    (ev: InboxEvent) => setItems((old) => applyToList(old, ev, latest.current.filters, latest.current.me)),
    [],
  );
  return { items, cursor, loading, error, loadMore, refresh, replace, reload, apply };
}

export function Inbox({ project, account, cid }: { project: Project; account: Account; cid: string | null }) {
  const [filters, setFiltersState] = useState(() => readInboxFilters(location.search));
  const [text, setText] = useState(filters.q);
  const setFilters = useCallback(
    (f: InboxFilters) => {
      setFiltersState(f);
      history.replaceState(null, '', `${location.pathname}${viewQuery(f)}`);
    },
    [],
  );
  useEffect(() => {
    if (text === filters.q) return;
    const t = setTimeout(() => setFilters({ ...filters, q: text }), SEARCH_DELAY_MS);
    return () => clearTimeout(t);
  }, [text, filters, setFilters]);

  const list = useConversationList(project.id, filters, account.id);
  const forbidden = isForbidden(list.error);
  const agents = useAsync(() => api.agents(project.id).catch(() => ({ agents: [] })), [project.id]);
  const [poll, setPoll] = useState(0);
  const [live, setLive] = useState(false);
  // The newest event for the open thread (`n` makes every event a change).
  const [event, setEvent] = useState<{ n: number; ev: InboxEvent } | null>(null);
  const { apply, refresh } = list;
  useEffect(() => {
    if (forbidden) return;
    const socket = new InboxSocket({
      socketUrl: downloads.liveSocket(project.id),
      onEvent: (ev) => {
        apply(ev);
        setEvent((old) => ({ n: (old?.n ?? 0) + 1, ev }));
      },
      onLive: setLive,
      onResync: () => {
        refresh();
        setPoll((n) => n + 1);
      },
    });
    socket.start();
    return () => socket.stop();
  }, [project.id, forbidden, apply, refresh]);
  usePolling(
    () => {
      list.refresh();
      setPoll((n) => n + 1);
    },
    live ? INBOX_FALLBACK_POLL_MS : INBOX_POLL_MS,
    !forbidden,
  );

  const open = (c: Conversation) => navigate(`/inbox/${encodeURIComponent(c.id)}${viewQuery(filters)}`);
  const changed = useCallback(
    (c: Conversation) => {
      list.replace(c);
      list.refresh();
    },
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [list.replace, list.refresh],
  );
  // The open conversation's contact, as its view loaded it (it may not be in the list's view).
  const [contact, setContact] = useState<{ cid: string; uid: string } | null>(null);
  const loaded = useCallback((c: Conversation) => setContact({ cid: c.id, uid: c.site_user_id }), []);
  const contactUid = contact && contact.cid === cid ? contact.uid : null;

  if (forbidden) {
    return (
      <div className="page">
        <div className="page-head"><h1>Inbox</h1></div>
        <section className="card" data-testid="inbox-forbidden">
          <Empty title="No access to conversations">
            Your role in this project is viewer: viewers see analytics and contacts but no conversation content. An admin can make you an agent in Settings → Members.
          </Empty>
        </section>
      </div>
    );
  }
  return (
    <div className="page page-wide">
      <div className="page-head">
        <h1>Inbox</h1>
        <span className="muted small" data-testid="inbox-live">{live ? 'Live' : `Refreshes every ${INBOX_POLL_MS / 1000} s`}</span>
      </div>
      <div className={`inbox ${cid ? 'has-thread' : ''}`}>
        <section className="card inbox-list" aria-label="Conversation list">
          <InboxFilterBar filters={filters} text={text} onText={setText} onChange={setFilters} agents={agents.data?.agents} />
          <ConversationList
            items={list.items}
            selectedId={cid}
            loading={list.loading}
            error={list.error}
            cursor={list.cursor}
            filtered={hasInboxFilters(filters)}
            status={filters.status}
            onSelect={open}
            onRetry={list.reload}
            onMore={list.loadMore}
            onClear={() => {
              setText('');
              setFilters({ ...DEFAULT_FILTERS, status: filters.status });
            }}
          />
        </section>
        <section className="card inbox-thread" aria-label="Thread">
          {cid ? (
            <ConversationView key={cid} projectId={project.id} cid={cid} me={account.id} agents={agents.data?.agents ?? []} poll={poll} event={event} onChanged={changed} onLoaded={loaded} />
          ) : (
            <Empty title="No conversation open">Pick one in the list.</Empty>
          )}
        </section>
        {cid && contactUid && <ContactSummary projectId={project.id} uid={contactUid} />}
      </div>
    </div>
  );
}
