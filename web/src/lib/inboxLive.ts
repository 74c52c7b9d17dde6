// Live Inbox events (issue 12): the server sends `inbox.message`,
// `inbox.conversation` and `inbox.delivery` over the project's live feed
// (the same /live WebSocket as the visitor feed), only for conversations the
// account's scope may see. These pure functions apply them to the list and
// the open thread; `InboxSocket` keeps a socket open for the Inbox screen,
// which then polls slowly, as a fallback only (the socket: lib/feedSocket).
import type { Conversation, DeliveryStatus, InboxFilters, Message } from '../api/types';
import { FeedSocket } from './feedSocket';

export type InboxEvent =
  | { type: 'inbox.message'; conversation: Conversation; message: Message }
  | { type: 'inbox.conversation'; conversation: Conversation }
  | { type: 'inbox.delivery'; conversation_id: string; message_id: string; status: DeliveryStatus; message: Message };

export function isInboxEvent(msg: unknown): msg is InboxEvent {
  const t = (msg as { type?: unknown } | null)?.type;
  return t === 'inbox.message' || t === 'inbox.conversation' || t === 'inbox.delivery';
}

/** Whether the list with `filters` shows `c`; `null` when it cannot tell here
 * (a search: the server matches message bodies too; a heatmap cell: a local
 * weekday and hour of the project's time zone, which the server evaluates). */
export function matchesFilters(c: Conversation, f: InboxFilters, me: string): boolean | null {
  if (f.q.trim() || f.created) return null;
  if (c.status !== f.status) return false;
  if (f.channel && c.channel !== f.channel) return false;
  if (f.priority && c.priority !== f.priority) return false;
  if (f.assignee === 'me' && c.assignee_account_id !== me) return false;
  if (f.assignee === 'none' && c.assignee_account_id !== null) return false;
  if (f.assignee && f.assignee !== 'me' && f.assignee !== 'none' && c.assignee_account_id !== f.assignee) return false;
  return true;
}

const newestFirst = (a: Conversation, b: Conversation) =>
  b.last_message_at - a.last_message_at || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

/** The list after an event: a conversation that now matches the filters is
 * put in (or updated) in order, one that no longer does is taken out; with a
 * search, only conversations already shown are updated. */
export function applyToList(items: Conversation[], ev: InboxEvent, f: InboxFilters, me: string): Conversation[] {
  if (ev.type === 'inbox.delivery') return items;
  const c = ev.conversation;
  const shown = items.some((o) => o.id === c.id);
  const match = matchesFilters(c, f, me);
  if (match === null) return shown ? items.map((o) => (o.id === c.id ? c : o)) : items;
  if (!match) return shown ? items.filter((o) => o.id !== c.id) : items;
  return [...items.filter((o) => o.id !== c.id), c].sort(newestFirst);
}

/** The open thread's messages after an event (oldest first, one per id). */
export function applyToThread(messages: Message[], ev: InboxEvent, cid: string): Message[] {
  let m: Message;
  if (ev.type === 'inbox.message' && ev.conversation.id === cid) m = ev.message;
  else if (ev.type === 'inbox.delivery' && ev.conversation_id === cid) m = ev.message;
  else return messages;
  const byId = new Map(messages.map((x) => [x.id, x]));
  byId.set(m.id, m);
  return [...byId.values()].sort((a, b) => a.created_at - b.created_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

export interface InboxSocketOptions {
  socketUrl: string;
  onEvent: (ev: InboxEvent) => void;
  /** True while the socket is open (then the Inbox polls slowly). */
  onLive: (live: boolean) => void;
  /** A snapshot after the first: events may have been missed; reload. */
  onResync: () => void;
  makeSocket?: (url: string) => WebSocket;
}

/** The project's live feed, for its Inbox events (lib/feedSocket: reconnects with backoff). */
export class InboxSocket {
  private feed: FeedSocket;

  constructor(opts: InboxSocketOptions) {
    this.feed = new FeedSocket({
      socketUrl: opts.socketUrl,
      makeSocket: opts.makeSocket,
      onLive: opts.onLive,
      onResync: opts.onResync,
      onMessage: (msg) => {
        if (isInboxEvent(msg)) opts.onEvent(msg);
      },
    });
  }

  start() {
    this.feed.start();
  }

  stop() {
    this.feed.stop();
  }
}
