// The Inbox's left column: status tabs, assignee/channel/priority filters,
// the search box, the heatmap cell a Support link named (a removable chip)
// and the conversations, latest activity first, each with its
// unread count. The parent owns the filters (kept in the URL) and the data.
import type { Agent, Conversation, ConversationStatus, CreatedCell, InboxFilters } from '../../api/types';
import { CHANNELS, CONVERSATION_PRIORITIES } from '../../api/types';
import { Empty, ErrorBanner, Skeleton } from '../ui';
import { CHANNEL_LABEL, contactLabel, fmtTime } from './format';

export const STATUS_TABS: { id: ConversationStatus; label: string }[] = [
  { id: 'open', label: 'Open' },
  { id: 'pending', label: 'Pending' },
  { id: 'resolved', label: 'Resolved' },
];

export const DEFAULT_FILTERS: InboxFilters = { status: 'open', assignee: '', channel: '', priority: '', q: '' };

export const hasInboxFilters = (f: InboxFilters) => Boolean(f.assignee || f.channel || f.priority || f.q.trim() || f.created);

const DAY_NAMES = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const hh = (h: number) => `${String(h).padStart(2, '0')}:00`;

/** "Created Mon 09:00–10:00, 2026-12-01 – 2026-12-07" (the project's local time). */
export function createdLabel(c: CreatedCell): string {
  const days = c.from === c.to ? c.from : `${c.from} – ${c.to}`;
  return `Created ${DAY_NAMES[c.dow] ?? '?'} ${hh(c.hour)}–${hh((c.hour + 1) % 24)}, ${days}`;
}

export function InboxFilterBar({ filters, text, onText, onChange, agents = [] }: {
  filters: InboxFilters;
  text: string;
  onText: (q: string) => void;
  onChange: (f: InboxFilters) => void;
  /** The project's agents, one assignee option each (a link may name one). */
  agents?: Agent[];
}) {
  const byId = filters.assignee && filters.assignee !== 'me' && filters.assignee !== 'none' ? filters.assignee : null;
  return (
    <div className="inbox-filters">
      <div className="tabs" role="tablist" aria-label="Status">
        {STATUS_TABS.map((t) => (
          <button
            key={t.id}
            type="button"
            role="tab"
            aria-selected={filters.status === t.id}
            className={filters.status === t.id ? 'active' : ''}
            onClick={() => onChange({ ...filters, status: t.id })}
          >
            {t.label}
          </button>
        ))}
      </div>
      <div className="filters">
        <select aria-label="Assignee" value={filters.assignee} onChange={(e) => onChange({ ...filters, assignee: e.target.value as InboxFilters['assignee'] })}>
          <option value="">All</option>
          <option value="me">Mine</option>
          <option value="none">Unassigned</option>
          {agents.map((a) => <option key={a.account_id} value={a.account_id}>{a.email}</option>)}
          {byId && !agents.some((a) => a.account_id === byId) && <option value={byId}>Agent {byId}</option>}
        </select>
        <select aria-label="Channel" value={filters.channel} onChange={(e) => onChange({ ...filters, channel: e.target.value as InboxFilters['channel'] })}>
          <option value="">Any channel</option>
          {CHANNELS.map((c) => <option key={c} value={c}>{CHANNEL_LABEL[c]}</option>)}
        </select>
        <select aria-label="Priority" value={filters.priority} onChange={(e) => onChange({ ...filters, priority: e.target.value as InboxFilters['priority'] })}>
          <option value="">Any priority</option>
          {CONVERSATION_PRIORITIES.map((p) => <option key={p} value={p}>{p}</option>)}
        </select>
        <input type="search" aria-label="Search conversations" placeholder="Search name, email or message" value={text} onChange={(e) => onText(e.target.value)} />
      </div>
      {filters.created && (
        <ul className="chips" aria-label="Active filters">
          <li className="chip" data-testid="created-chip">
            {createdLabel(filters.created)}
            <button type="button" className="chip-x" aria-label="Remove the day and hour filter" onClick={() => onChange({ ...filters, created: null })}>
              ×
            </button>
          </li>
        </ul>
      )}
    </div>
  );
}

export function ConversationList({ items, selectedId, loading, error, cursor, filtered, status, onSelect, onRetry, onMore, onClear }: {
  items: Conversation[];
  /** The status tab, for the empty state. */
  status: ConversationStatus;
  selectedId: string | null;
  loading: boolean;
  error: Error | null;
  cursor: string | null;
  filtered: boolean;
  onSelect: (c: Conversation) => void;
  onRetry: () => void;
  onMore: () => void;
  onClear: () => void;
}) {
  return (
    <div className="conv-list-wrap">
      {error && <ErrorBanner error={error} onRetry={onRetry} />}
      {loading && items.length === 0 ? (
        <div className="stack">
          <Skeleton height={44} label="Loading conversations" />
          <Skeleton height={44} />
          <Skeleton height={44} />
        </div>
      ) : items.length === 0 && !error ? (
        filtered ? (
          <Empty title="No conversations match these filters">
            <button type="button" className="btn btn-small" onClick={onClear}>Clear filters</button>
          </Empty>
        ) : status !== 'open' ? (
          <Empty title={`No ${status} conversations`} />
        ) : (
          <Empty title="No conversations yet">Start one with “New message” on a contact's page.</Empty>
        )
      ) : (
        <ul className="conv-list" aria-label="Conversations">
          {items.map((c) => (
            <li key={c.id}>
              <button
                type="button"
                className={`conv-item ${c.id === selectedId ? 'selected' : ''} ${c.unread_count > 0 ? 'unread' : ''}`}
                aria-current={c.id === selectedId ? 'true' : undefined}
                data-testid="conversation-item"
                data-cid={c.id}
                onClick={() => onSelect(c)}
              >
                <span className="conv-top">
                  <strong className="conv-who">{contactLabel(c)}</strong>
                  <span className="muted small">{fmtTime(c.last_message_at)}</span>
                </span>
                <span className="conv-bottom">
                  <span className="badge">{CHANNEL_LABEL[c.channel] ?? c.channel}</span>
                  {c.priority !== 'medium' && <span className={`badge cprio-${c.priority}`}>{c.priority}</span>}
                  {c.unread_count > 0 && (
                    <span className="unread-count" data-testid="unread-count" aria-label={`${c.unread_count} unread`}>{c.unread_count}</span>
                  )}
                </span>
              </button>
            </li>
          ))}
        </ul>
      )}
      {cursor && (
        <button type="button" className="btn load-more" disabled={loading} onClick={onMore}>
          {loading ? 'Loading…' : 'Load more'}
        </button>
      )}
    </div>
  );
}
