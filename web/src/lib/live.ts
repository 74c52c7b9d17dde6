// The live feed (docs: notes/live-protocol.md): a WebSocket on
// /api/v1/projects/{id}/live that sends a snapshot then deltas. When the socket
// cannot be opened or drops, the feed polls /online every few seconds and
// retries the socket with exponential backoff, so the table keeps moving.
import type { Metrics, Visitor } from '../api/types';

export type LiveStatus = 'connecting' | 'live' | 'reconnecting' | 'polling';

/** A visitor plus when we received it, so clocks can tick locally. */
export interface LiveVisitor extends Visitor {
  received_at: number;
}

export interface LiveState {
  status: LiveStatus;
  visitors: LiveVisitor[];
  metrics: Metrics | null;
  /** When the last `event`/`visitor_*` message (or a new visitor while polling) arrived. */
  lastActivityAt: number | null;
  seq: number | null;
  /** True once the first list of visitors (snapshot or poll) is in. */
  loaded: boolean;
}

export type LiveMessage =
  | { type: 'snapshot'; seq: number; visitors: Visitor[]; metrics?: Metrics }
  | { type: 'visitor_joined' | 'visitor_moved'; seq: number; visitor: Visitor }
  | { type: 'visitor_left'; seq: number; session_id: string; reason?: string }
  | { type: 'event'; seq: number; name?: string; page?: string; at?: string }
  | { type: 'user_identified'; seq: number; anonymous_id: string; user_id: string; traits?: Record<string, unknown> }
  | { type: 'metrics'; seq: number; metrics: Metrics };

export const initialLiveState: LiveState = {
  status: 'connecting',
  visitors: [],
  metrics: null,
  lastActivityAt: null,
  seq: null,
  loaded: false,
};

const stamp = (v: Visitor, now: number): LiveVisitor => ({ ...v, received_at: now });

/** Applies one server message. Pure, so it is unit-tested without a socket. */
export function applyMessage(state: LiveState, msg: LiveMessage, now = Date.now()): LiveState {
  const seq = typeof msg.seq === 'number' ? msg.seq : state.seq;
  switch (msg.type) {
    case 'snapshot':
      return {
        ...state,
        status: 'live',
        seq,
        loaded: true,
        visitors: msg.visitors.map((v) => stamp(v, now)),
        metrics: msg.metrics ?? state.metrics,
      };
    case 'visitor_joined':
    case 'visitor_moved': {
      const i = state.visitors.findIndex((v) => v.session_id === msg.visitor.session_id);
      const visitors = state.visitors.slice();
      if (i >= 0) visitors[i] = stamp(msg.visitor, now);
      else visitors.unshift(stamp(msg.visitor, now));
      return { ...state, seq, visitors, lastActivityAt: now };
    }
    case 'visitor_left':
      return { ...state, seq, visitors: state.visitors.filter((v) => v.session_id !== msg.session_id) };
    case 'event':
      return { ...state, seq, lastActivityAt: now };
    case 'user_identified':
      return {
        ...state,
        seq,
        visitors: state.visitors.map((v) =>
          v.anonymous_id === msg.anonymous_id
            ? {
                ...v,
                user_id: msg.user_id,
                traits: { ...(v.traits ?? {}), ...(msg.traits ?? {}) },
                email: typeof msg.traits?.email === 'string' ? msg.traits.email : v.email,
                name: typeof msg.traits?.name === 'string' ? msg.traits.name : v.name,
              }
            : v,
        ),
      };
    case 'metrics':
      return { ...state, seq, metrics: msg.metrics };
    default:
      return state;
  }
}

/** The visitor list from a poll of /online; new sessions count as activity. */
export function applyPoll(state: LiveState, visitors: Visitor[], now = Date.now()): LiveState {
  const known = new Set(state.visitors.map((v) => v.session_id));
  const fresh = visitors.some((v) => !known.has(v.session_id));
  return {
    ...state,
    loaded: true,
    visitors: visitors.map((v) => stamp(v, now)),
    lastActivityAt: fresh && state.loaded ? now : state.lastActivityAt,
  };
}

export interface LiveFeedOptions {
  socketUrl: string;
  poll: () => Promise<Visitor[]>;
  onChange: (s: LiveState) => void;
  onUnauthorized?: (reason: string) => void;
  /** The server closed with 4403: no longer a member, or the role is too low. */
  onAccessLost?: (reason: string) => void;
  pollMs?: number;
  makeSocket?: (url: string) => WebSocket;
}

export class LiveFeed {
  private state: LiveState = initialLiveState;
  private socket: WebSocket | null = null;
  private pollTimer: ReturnType<typeof setInterval> | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private attempts = 0;
  private stopped = false;

  constructor(private opts: LiveFeedOptions) {}

  start() {
    this.connect();
  }

  stop() {
    this.stopped = true;
    this.stopPolling();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.socket) {
      this.socket.onclose = null;
      this.socket.onmessage = null;
      this.socket.onerror = null;
      this.socket.close(1000);
    }
  }

  private set(next: LiveState) {
    this.state = next;
    if (!this.stopped) this.opts.onChange(next);
  }

  private connect() {
    if (this.stopped) return;
    let socket: WebSocket;
    try {
      socket = (this.opts.makeSocket ?? ((u) => new WebSocket(u)))(this.opts.socketUrl);
    } catch {
      this.dropped();
      return;
    }
    this.socket = socket;
    socket.onmessage = (ev) => {
      let msg: LiveMessage;
      try {
        msg = JSON.parse(String(ev.data));
      } catch {
        return;
      }
      const gap = this.state.seq !== null && msg.type !== 'snapshot' && msg.seq !== this.state.seq + 1;
      this.set(applyMessage(this.state, msg));
      if (msg.type === 'snapshot') {
        this.attempts = 0;
        this.stopPolling();
      } else if (gap) {
        // The server sends a fresh snapshot when we lag; meanwhile resync the list.
        void this.pollOnce();
      }
    };
    socket.onclose = (ev) => {
      this.socket = null;
      if (ev.code === 4401) {
        this.stopped = true;
        this.stopPolling();
        // The close reason ("session expired", "token revoked") is for scripts; the
        // dashboard says the same as when an API call answers 401.
        this.opts.onUnauthorized?.('Your session has expired. Please sign in again.');
        return;
      }
      if (ev.code === 4403) {
        // Retrying or polling would only meet 404s: stop and let the app
        // reload what this account may still see.
        this.stopped = true;
        this.stopPolling();
        this.opts.onAccessLost?.(ev.reason);
        return;
      }
      this.dropped();
    };
  }

  private dropped() {
    if (this.stopped) return;
    this.set({ ...this.state, status: this.state.status === 'live' ? 'reconnecting' : this.state.status, seq: null });
    this.startPolling();
    const delay = Math.min(30_000, 1000 * 2 ** this.attempts);
    this.attempts += 1;
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  private startPolling() {
    if (this.pollTimer) return;
    void this.pollOnce();
    this.pollTimer = setInterval(() => void this.pollOnce(), this.opts.pollMs ?? 4000);
  }

  private stopPolling() {
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = null;
  }

  private async pollOnce() {
    try {
      const visitors = await this.opts.poll();
      if (this.stopped) return;
      const status = this.state.status === 'live' && this.socket ? 'live' : 'polling';
      this.set({ ...applyPoll(this.state, visitors), status });
    } catch {
      if (!this.stopped && this.state.status !== 'live') this.set({ ...this.state, status: 'reconnecting' });
    }
  }
}
