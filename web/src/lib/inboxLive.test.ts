import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Conversation, InboxFilters, Message } from '../api/types';
import { applyToList, applyToThread, InboxSocket, isInboxEvent, matchesFilters, type InboxEvent } from './inboxLive';

const conv = (id: string, over: Partial<Conversation> = {}): Conversation => ({
  id,
  site_user_id: `u-${id}`,
  contact_name: null,
  contact_email: null,
  channel: 'in_app',
  status: 'open',
  priority: 'medium',
  assignee_account_id: null,
  team_id: null,
  inbox_id: null,
  handled_by_bot: false,
  escalated_to_human: false,
  intent: null,
  csat: null,
  first_response_at: null,
  resolved_at: null,
  last_message_at: 100,
  unread_count: 0,
  created_at: 1,
  updated_at: 1,
  ...over,
});

const msg = (id: string, cid: string, at: number, over: Partial<Message> = {}): Message => ({
  id,
  conversation_id: cid,
  channel: 'in_app',
  direction: 'in',
  sender: 'contact',
  sender_account_id: null,
  body: `body ${id}`,
  private: false,
  attachments: [],
  delivery_status: 'delivered',
  sent_at: at,
  delivered_at: null,
  read_at: null,
  failed_reason: null,
  created_at: at,
  ...over,
});

const open: InboxFilters = { status: 'open', assignee: '', channel: '', priority: '', q: '' };

describe('inbox live events', () => {
  it('recognises only inbox events', () => {
    expect(isInboxEvent({ type: 'inbox.message' })).toBe(true);
    expect(isInboxEvent({ type: 'visitor_joined' })).toBe(false);
    expect(isInboxEvent(null)).toBe(false);
  });

  it('matches the list filters, and cannot tell for a search or a heatmap cell', () => {
    expect(matchesFilters(conv('a'), open, 'me')).toBe(true);
    expect(matchesFilters(conv('a', { status: 'pending' }), open, 'me')).toBe(false);
    expect(matchesFilters(conv('a'), { ...open, assignee: 'me' }, 'me')).toBe(false);
    expect(matchesFilters(conv('a', { assignee_account_id: 'me' }), { ...open, assignee: 'me' }, 'me')).toBe(true);
    expect(matchesFilters(conv('a', { assignee_account_id: 'x' }), { ...open, assignee: 'none' }, 'me')).toBe(false);
    expect(matchesFilters(conv('a', { assignee_account_id: 'x' }), { ...open, assignee: 'x' }, 'me')).toBe(true);
    expect(matchesFilters(conv('a', { assignee_account_id: 'y' }), { ...open, assignee: 'x' }, 'me')).toBe(false);
    expect(matchesFilters(conv('a'), { ...open, channel: 'email' }, 'me')).toBe(false);
    expect(matchesFilters(conv('a'), { ...open, q: 'refund' }, 'me')).toBe(null);
    // A heatmap cell is a local weekday and hour the server evaluates.
    expect(matchesFilters(conv('a'), { ...open, created: { from: '2026-12-01', to: '2026-12-07', dow: 1, hour: 9 } }, 'me')).toBe(null);
  });

  it('puts new and updated conversations in order, takes out those that no longer match', () => {
    const items = [conv('b', { last_message_at: 200 }), conv('a', { last_message_at: 100 })];
    const fresh: InboxEvent = { type: 'inbox.message', conversation: conv('c', { last_message_at: 300, unread_count: 1 }), message: msg('m', 'c', 300) };
    expect(applyToList(items, fresh, open, 'me').map((c) => c.id)).toEqual(['c', 'b', 'a']);
    const bumped: InboxEvent = { type: 'inbox.conversation', conversation: conv('a', { last_message_at: 400, unread_count: 2 }) };
    const after = applyToList(items, bumped, open, 'me');
    expect(after.map((c) => c.id)).toEqual(['a', 'b']);
    expect(after[0].unread_count).toBe(2);
    const resolved: InboxEvent = { type: 'inbox.conversation', conversation: conv('b', { status: 'resolved' }) };
    expect(applyToList(items, resolved, open, 'me').map((c) => c.id)).toEqual(['a']);
    // With a search only shown conversations change.
    const searching = { ...open, q: 'x' };
    expect(applyToList(items, fresh, searching, 'me')).toBe(items);
    expect(applyToList(items, bumped, searching, 'me').find((c) => c.id === 'a')?.unread_count).toBe(2);
    // Delivery events do not touch the list.
    const d: InboxEvent = { type: 'inbox.delivery', conversation_id: 'a', message_id: 'm', status: 'read', message: msg('m', 'a', 1) };
    expect(applyToList(items, d, open, 'me')).toBe(items);
  });

  it('merges messages and delivery changes into the open thread only', () => {
    const thread = [msg('1', 'c', 10), msg('2', 'c', 20, { direction: 'out', delivery_status: 'sent' })];
    const other: InboxEvent = { type: 'inbox.message', conversation: conv('x'), message: msg('9', 'x', 30) };
    expect(applyToThread(thread, other, 'c')).toBe(thread);
    const next: InboxEvent = { type: 'inbox.message', conversation: conv('c'), message: msg('3', 'c', 30) };
    expect(applyToThread(thread, next, 'c').map((m) => m.id)).toEqual(['1', '2', '3']);
    const read: InboxEvent = {
      type: 'inbox.delivery', conversation_id: 'c', message_id: '2', status: 'read',
      message: msg('2', 'c', 20, { direction: 'out', delivery_status: 'read', read_at: 25 }),
    };
    const after = applyToThread(thread, read, 'c');
    expect(after.map((m) => m.id)).toEqual(['1', '2']);
    expect(after[1].delivery_status).toBe('read');
  });
});

class FakeSocket {
  static all: FakeSocket[] = [];
  onmessage: ((e: { data: string }) => void) | null = null;
  onclose: ((e: { code: number }) => void) | null = null;
  closed = false;
  constructor(public url: string) {
    FakeSocket.all.push(this);
  }
  send() {}
  close() {
    this.closed = true;
  }
  emit(m: unknown) {
    this.onmessage?.({ data: JSON.stringify(m) });
  }
  drop(code = 1006) {
    this.onclose?.({ code });
  }
}

describe('InboxSocket', () => {
  beforeEach(() => {
    FakeSocket.all = [];
    vi.useFakeTimers();
  });
  afterEach(() => vi.useRealTimers());

  it('hands on inbox events, reports live, resyncs after a reconnect and stops on 4403', async () => {
    const onEvent = vi.fn();
    const onLive = vi.fn();
    const onResync = vi.fn();
    const s = new InboxSocket({
      socketUrl: 'ws://x/live',
      onEvent,
      onLive,
      onResync,
      makeSocket: (u) => new FakeSocket(u) as unknown as WebSocket,
    });
    s.start();
    const first = FakeSocket.all[0];
    first.emit({ type: 'snapshot', seq: 0, visitors: [] });
    expect(onLive).toHaveBeenLastCalledWith(true);
    expect(onResync).not.toHaveBeenCalled();
    first.emit({ type: 'visitor_joined', seq: 1 });
    first.emit({ type: 'inbox.conversation', conversation: conv('a') });
    expect(onEvent).toHaveBeenCalledTimes(1);
    expect(onEvent.mock.calls[0][0].conversation.id).toBe('a');
    first.drop();
    expect(onLive).toHaveBeenLastCalledWith(false);
    await vi.advanceTimersByTimeAsync(1000);
    expect(FakeSocket.all.length).toBe(2);
    FakeSocket.all[1].emit({ type: 'snapshot', seq: 5, visitors: [] });
    expect(onResync).toHaveBeenCalledTimes(1);
    FakeSocket.all[1].drop(4403);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeSocket.all.length).toBe(2);
    s.stop();
  });
});
