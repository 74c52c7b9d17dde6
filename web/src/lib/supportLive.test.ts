import { act, renderHook } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SupportQuery } from '../api/support';
import { FeedSocket } from './feedSocket';
import { sameQuery, supportUpdate, SupportSocket, useSupportLive } from './supportLive';

class FakeSocket {
  static all: FakeSocket[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((e: { data: string }) => void) | null = null;
  onclose: ((e: { code: number }) => void) | null = null;
  sent: unknown[] = [];
  closed = false;
  constructor(public url: string) {
    FakeSocket.all.push(this);
  }
  send(text: string) {
    this.sent.push(JSON.parse(text));
  }
  close() {
    this.closed = true;
  }
  open() {
    this.onopen?.();
  }
  emit(m: unknown) {
    this.onmessage?.({ data: JSON.stringify(m) });
  }
  drop(code = 1006) {
    this.onclose?.({ code });
  }
}
const make = (u: string) => new FakeSocket(u) as unknown as WebSocket;
const lastSocket = () => FakeSocket.all[FakeSocket.all.length - 1];

const today: SupportQuery = { preset: 'today', from: '2026-12-07', to: '2026-12-07', agent: '', team: '', channel: '' };
const week: SupportQuery = { ...today, preset: 'week', from: '2026-12-01', channel: 'whatsapp' };
const body = { active_conversations: { value: 3 }, range: {}, scope: 'all' };

beforeEach(() => {
  FakeSocket.all = [];
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('support updates', () => {
  it('reads both shapes, with the body and the query it was computed for', () => {
    expect(supportUpdate({ type: 'support', section: 'kpi', data: body, query: { date_range: 'week' }, timestamp: 1 })).toEqual({
      section: 'kpi', data: body, query: { date_range: 'week' },
    });
    expect(supportUpdate({ type: 'support', section: 'agent', data: null, timestamp: 1 })).toEqual({ section: 'agent', data: null, query: null });
    expect(supportUpdate({ type: 'kpi', data: body, timestamp: '2026-12-07T10:00:00Z' })).toEqual({ section: 'kpi', data: body, query: null });
    // Not an object: no body; a query with other than strings: no query.
    expect(supportUpdate({ type: 'support', section: 'kpi', data: [1], query: { a: 1 } })).toEqual({ section: 'kpi', data: null, query: null });
    expect(supportUpdate({ type: 'support', section: 'nope', data: body })).toBeNull();
    expect(supportUpdate({ type: 'support.subscribed', query: {} })).toBeNull();
    expect(supportUpdate('kpi')).toBeNull();
  });

  it('compares queries parameter by parameter', () => {
    expect(sameQuery({ date_range: 'week', channel: 'sms' }, { channel: 'sms', date_range: 'week' })).toBe(true);
    expect(sameQuery({ date_range: 'week' }, { date_range: 'week', channel: 'sms' })).toBe(false);
    expect(sameQuery({ date_range: 'week' }, { date_range: 'month' })).toBe(false);
    expect(sameQuery({}, {})).toBe(true);
    expect(sameQuery(null, {})).toBe(false);
    expect(sameQuery(null, null)).toBe(true);
  });
});

describe('SupportSocket', () => {
  it('subscribes on every open socket and when the query changes', async () => {
    vi.useFakeTimers();
    const onUpdate = vi.fn();
    const s = new SupportSocket({ socketUrl: 'ws://x/live', onUpdate, onLive: vi.fn(), makeSocket: make });
    s.subscribe({ date_range: 'today' });
    s.start();
    const first = FakeSocket.all[0];
    // Nothing goes out before the socket is open.
    expect(first.sent).toEqual([]);
    first.open();
    expect(first.sent).toEqual([{ type: 'support.subscribe', query: { date_range: 'today' } }]);
    s.subscribe({ date_range: 'today' });
    expect(first.sent).toHaveLength(1);
    s.subscribe({ date_range: 'week', channel: 'sms' });
    expect(first.sent[1]).toEqual({ type: 'support.subscribe', query: { date_range: 'week', channel: 'sms' } });
    first.emit({ type: 'support', section: 'customer', data: null, timestamp: 1 });
    first.emit({ type: 'inbox.message', conversation: {}, message: {} });
    expect(onUpdate).toHaveBeenCalledTimes(1);
    expect(onUpdate.mock.calls[0][0].section).toBe('customer');
    // A new socket is told the query of now.
    first.drop();
    await vi.advanceTimersByTimeAsync(1000);
    const second = FakeSocket.all[1];
    second.open();
    expect(second.sent).toEqual([{ type: 'support.subscribe', query: { date_range: 'week', channel: 'sms' } }]);
    s.subscribe(null);
    expect(second.sent[1]).toEqual({ type: 'support.unsubscribe' });
    s.stop();
    expect(second.closed).toBe(true);
  });
});

describe('FeedSocket', () => {
  it('reports live on a snapshot, resyncs on the next, backs off and stops on 4401', async () => {
    vi.useFakeTimers();
    const onMessage = vi.fn();
    const onLive = vi.fn();
    const onResync = vi.fn();
    const f = new FeedSocket({ socketUrl: 'ws://x/live', onMessage, onLive, onResync, makeSocket: make });
    f.start();
    expect(f.send({ a: 1 })).toBe(false);
    FakeSocket.all[0].open();
    expect(f.send({ a: 1 })).toBe(true);
    FakeSocket.all[0].emit({ type: 'snapshot', seq: 0 });
    FakeSocket.all[0].emit({ type: 'metrics', seq: 1 });
    expect(onLive).toHaveBeenLastCalledWith(true);
    expect(onMessage).toHaveBeenCalledWith({ type: 'metrics', seq: 1 });
    FakeSocket.all[0].emit({ type: 'snapshot', seq: 9 });
    expect(onResync).toHaveBeenCalledTimes(1);
    // Two failed sockets: 1 s, then 2 s.
    FakeSocket.all[0].drop();
    expect(onLive).toHaveBeenLastCalledWith(false);
    expect(f.send({ a: 1 })).toBe(false);
    await vi.advanceTimersByTimeAsync(1000);
    FakeSocket.all[1].drop();
    await vi.advanceTimersByTimeAsync(1999);
    expect(FakeSocket.all).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(FakeSocket.all).toHaveLength(3);
    FakeSocket.all[2].drop(4401);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeSocket.all).toHaveLength(3);
    f.stop();
  });
});

describe('useSupportLive', () => {
  beforeEach(() => vi.stubGlobal('WebSocket', FakeSocket));

  it('shows a pushed body of the page query, refetches otherwise, and follows the query', async () => {
    vi.useFakeTimers();
    const refresh = vi.fn();
    const apply = vi.fn();
    const { result, rerender } = renderHook(({ q }) => useSupportLive('p1', q, { refresh, apply }, { minGapMs: 2000 }), {
      initialProps: { q: today },
    });
    const ws = lastSocket();
    expect(ws.url).toMatch(/\/api\/v1\/projects\/p1\/live$/);
    act(() => {
      ws.open();
      ws.emit({ type: 'snapshot', seq: 1, visitors: [] });
    });
    expect(result.current).toBe(true);
    expect(ws.sent).toEqual([{ type: 'support.subscribe', query: { date_range: 'today' } }]);

    // A body for the page's query: shown, no request.
    act(() => ws.emit({ type: 'support', section: 'kpi', data: body, query: { date_range: 'today' }, timestamp: 1 }));
    expect(apply).toHaveBeenCalledWith('kpi', body);
    expect(refresh).not.toHaveBeenCalled();
    // Without a body: asked again, at most once per gap.
    act(() => ws.emit({ type: 'support', section: 'kpi', data: null, query: { date_range: 'today' }, timestamp: 2 }));
    act(() => ws.emit({ type: 'support', section: 'kpi', data: null, timestamp: 3 }));
    expect(refresh).toHaveBeenCalledTimes(1);
    // A body arriving while a refetch waits for its gap replaces it.
    act(() => ws.emit({ type: 'support', section: 'kpi', data: body, query: { date_range: 'today' }, timestamp: 4 }));
    await act(async () => {
      await vi.advanceTimersByTimeAsync(3000);
    });
    expect(refresh).toHaveBeenCalledTimes(1);
    expect(apply).toHaveBeenCalledTimes(2);

    // The page changes its range: the socket is told; a body still for the
    // old query is not shown but refetched.
    rerender({ q: week });
    expect(ws.sent[1]).toEqual({ type: 'support.subscribe', query: { date_range: 'week', channel: 'whatsapp' } });
    act(() => ws.emit({ type: 'support', section: 'customer', data: body, query: { date_range: 'today' }, timestamp: 5 }));
    expect(refresh).toHaveBeenLastCalledWith('customer');
    expect(apply).toHaveBeenCalledTimes(2);
    act(() => ws.emit({ type: 'support', section: 'customer', data: body, query: { channel: 'whatsapp', date_range: 'week' }, timestamp: 6 }));
    expect(apply).toHaveBeenLastCalledWith('customer', body);
    // The shape names no query: refetched.
    act(() => ws.emit({ type: 'agent', data: body, timestamp: 7 }));
    expect(refresh).toHaveBeenLastCalledWith('agent');
  });
});
