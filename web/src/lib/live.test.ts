import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Visitor } from '../api/types';
import { applyMessage, applyPoll, initialLiveState, LiveFeed, type LiveState } from './live';

const v = (id: string, path = '/'): Visitor =>
  ({ session_id: id, site_user_id: 'p' + id, anonymous_id: 'a' + id, current_page: { path, url: null, title: null }, time_on_site_s: 0, time_on_page_s: 0, stuck: false }) as Visitor;

describe('applyMessage', () => {
  it('replaces on snapshot and applies joins, moves and leaves by session id', () => {
    let s = applyMessage(initialLiveState, { type: 'snapshot', seq: 1, visitors: [v('1'), v('2')] }, 10);
    expect(s.status).toBe('live');
    expect(s.visitors.map((x) => x.session_id)).toEqual(['1', '2']);
    s = applyMessage(s, { type: 'visitor_joined', seq: 2, visitor: v('3') }, 20);
    expect(s.visitors.map((x) => x.session_id)).toEqual(['3', '1', '2']);
    expect(s.lastActivityAt).toBe(20);
    s = applyMessage(s, { type: 'visitor_moved', seq: 3, visitor: v('1', '/pricing') }, 30);
    expect(s.visitors.find((x) => x.session_id === '1')!.current_page!.path).toBe('/pricing');
    expect(s.visitors.find((x) => x.session_id === '1')!.received_at).toBe(30);
    s = applyMessage(s, { type: 'visitor_left', seq: 4, session_id: '2', reason: 'leave' });
    expect(s.visitors.map((x) => x.session_id)).toEqual(['3', '1']);
    expect(s.seq).toBe(4);
  });

  it('applies identify and metrics messages', () => {
    let s = applyMessage(initialLiveState, { type: 'snapshot', seq: 1, visitors: [v('1')] });
    s = applyMessage(s, { type: 'user_identified', seq: 2, anonymous_id: 'a1', user_id: 'u1', traits: { email: 'x@y.z' } });
    expect(s.visitors[0].user_id).toBe('u1');
    expect(s.visitors[0].email).toBe('x@y.z');
    const card = { value: 1, previous: 0, trend_pct: null };
    s = applyMessage(s, { type: 'metrics', seq: 3, metrics: { total_users: card, online_now: card, new_this_week: card, churn_rate: card } });
    expect(s.metrics!.online_now.value).toBe(1);
  });

  it('counts a new session in a poll as activity', () => {
    let s = applyPoll(initialLiveState, [v('1')], 5);
    expect(s.lastActivityAt).toBeNull();
    s = applyPoll(s, [v('1'), v('2')], 6);
    expect(s.lastActivityAt).toBe(6);
  });
});

class FakeSocket {
  static all: FakeSocket[] = [];
  onmessage: ((ev: { data: string }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: (() => void) | null = null;
  constructor(public url: string) {
    FakeSocket.all.push(this);
  }
  close() {}
  send(msg: object) {
    this.onmessage?.({ data: JSON.stringify(msg) });
  }
  drop(code = 1006, reason = '') {
    this.onclose?.({ code, reason });
  }
}

describe('LiveFeed', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    FakeSocket.all = [];
  });
  afterEach(() => vi.useRealTimers());

  function feed(poll: () => Promise<Visitor[]>, onUnauthorized = vi.fn(), onAccessLost = vi.fn()) {
    const states: LiveState[] = [];
    const f = new LiveFeed({
      socketUrl: 'ws://x/live',
      poll,
      onChange: (s) => states.push(s),
      onUnauthorized,
      onAccessLost,
      pollMs: 4000,
      makeSocket: (u) => new FakeSocket(u) as unknown as WebSocket,
    });
    f.start();
    return { f, states, last: () => states[states.length - 1] };
  }

  it('polls /online when the socket fails, retries with backoff, and stops polling once live', async () => {
    const poll = vi.fn().mockResolvedValue([v('9')]);
    const { f, last } = feed(poll);
    FakeSocket.all[0].drop();
    await vi.advanceTimersByTimeAsync(0);
    expect(poll).toHaveBeenCalledTimes(1);
    expect(last().status).toBe('polling');
    expect(last().visitors.map((x) => x.session_id)).toEqual(['9']);
    await vi.advanceTimersByTimeAsync(1000); // first retry after 1 s
    expect(FakeSocket.all.length).toBe(2);
    FakeSocket.all[1].drop();
    await vi.advanceTimersByTimeAsync(1999);
    expect(FakeSocket.all.length).toBe(2); // second retry after 2 s
    await vi.advanceTimersByTimeAsync(1);
    expect(FakeSocket.all.length).toBe(3);
    FakeSocket.all[2].send({ type: 'snapshot', seq: 1, visitors: [v('1')] });
    expect(last().status).toBe('live');
    const calls = poll.mock.calls.length;
    await vi.advanceTimersByTimeAsync(20_000);
    expect(poll.mock.calls.length).toBe(calls);
    FakeSocket.all[2].drop();
    expect(last().status).toBe('reconnecting');
    f.stop();
  });

  it('hands a 4401 close to the session-expiry handler', () => {
    const onUnauthorized = vi.fn();
    const { f } = feed(vi.fn().mockResolvedValue([]), onUnauthorized);
    FakeSocket.all[0].drop(4401, 'session expired');
    expect(onUnauthorized).toHaveBeenCalledWith('Your session has expired. Please sign in again.');
    f.stop();
  });

  it('stops retrying and polling on a 4403 close and reports the lost access', async () => {
    const poll = vi.fn().mockResolvedValue([]);
    const onUnauthorized = vi.fn();
    const onAccessLost = vi.fn();
    const { f } = feed(poll, onUnauthorized, onAccessLost);
    FakeSocket.all[0].send({ type: 'snapshot', seq: 1, visitors: [v('1')] });
    FakeSocket.all[0].drop(4403, 'no longer a member');
    expect(onAccessLost).toHaveBeenCalledWith('no longer a member');
    expect(onUnauthorized).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeSocket.all.length).toBe(1);
    expect(poll).not.toHaveBeenCalled();
    f.stop();
  });
});
