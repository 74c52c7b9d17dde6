// Realtime for the Support page (issue 13 item 5). The server pushes
// `{type: "support", section, data, timestamp}` over the project's live feed
// (the same /live WebSocket as the visitor feed and the Inbox events) for the
// sections whose numbers changed, scoped to the viewer. The page shows its own
// range and filters, which the pushed `data` may not match, so a message only
// says "this section changed": the page asks for that section again (at most
// once per `minGapMs`). Also read: the issue's `{type: kpi|conversation|…,
// data, timestamp}` shape. Without an open socket the KPI strip is asked for
// every 30 s. Anything else on the feed is ignored.
import { useEffect, useRef, useState } from 'react';
import { downloads } from '../api/client';
import type { SectionName } from '../api/support';

export type LiveSection = SectionName | 'kpi';
const NAMES: LiveSection[] = ['kpi', 'conversation', 'whatsapp', 'customer', 'agent', 'automation', 'business'];
export const KPI_FALLBACK_POLL_MS = 30_000;

/** The section a feed message reports a change of, or null when it is not a support update. */
export function supportSection(msg: unknown): LiveSection | null {
  if (!msg || typeof msg !== 'object') return null;
  const m = msg as { type?: unknown; section?: unknown; data?: unknown };
  if (m.type === 'support' && NAMES.includes(m.section as LiveSection)) return m.section as LiveSection;
  // The wording: the section as the type, always with `data`.
  if (NAMES.includes(m.type as LiveSection) && 'data' in m) return m.type as LiveSection;
  return null;
}

export interface SupportSocketOptions {
  socketUrl: string;
  onSection: (s: LiveSection) => void;
  onLive: (live: boolean) => void;
  makeSocket?: (url: string) => WebSocket;
}

/** The project's live feed for its support updates; reconnects with backoff. */
export class SupportSocket {
  private socket: WebSocket | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private attempts = 0;
  private stopped = false;

  constructor(private opts: SupportSocketOptions) {}

  start() {
    this.connect();
  }

  stop() {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    const s = this.socket;
    this.socket = null;
    if (s) {
      s.onopen = null;
      s.onclose = null;
      s.onmessage = null;
      s.close(1000);
    }
  }

  private connect() {
    if (this.stopped) return;
    let s: WebSocket;
    try {
      s = (this.opts.makeSocket ?? ((u) => new WebSocket(u)))(this.opts.socketUrl);
    } catch {
      this.retry();
      return;
    }
    this.socket = s;
    s.onmessage = (e) => {
      let msg: unknown;
      try {
        msg = JSON.parse(String(e.data));
      } catch {
        return;
      }
      if ((msg as { type?: unknown })?.type === 'snapshot') {
        this.attempts = 0;
        this.opts.onLive(true);
        return;
      }
      const section = supportSection(msg);
      if (section) this.opts.onSection(section);
    };
    s.onclose = (e) => {
      this.socket = null;
      this.opts.onLive(false);
      if (e.code === 4401 || e.code === 4403) return; // the API calls report that
      this.retry();
    };
  }

  private retry() {
    if (this.stopped) return;
    const delay = Math.min(30_000, 1000 * 2 ** this.attempts++);
    this.timer = setTimeout(() => this.connect(), delay);
  }
}

/**
 * Calls `refresh(section)` when the feed says a section changed (at most once
 * per `minGapMs` per section; a change inside the gap is refreshed at its end)
 * and `refresh('kpi')` every 30 s while the socket is not open. Returns
 * whether it is open.
 */
export function useSupportLive(projectId: string, refresh: (s: LiveSection) => void, { enabled = true, minGapMs = 2000 } = {}): boolean {
  const [live, setLive] = useState(false);
  const latest = useRef(refresh);
  latest.current = refresh;
  useEffect(() => {
    if (!enabled) return;
    const last = new Map<LiveSection, number>();
    const pending = new Map<LiveSection, ReturnType<typeof setTimeout>>();
    const fire = (s: LiveSection) => {
      pending.delete(s);
      last.set(s, Date.now());
      latest.current(s);
    };
    const socket = new SupportSocket({
      socketUrl: downloads.liveSocket(projectId),
      onLive: setLive,
      onSection: (s) => {
        if (pending.has(s)) return;
        const wait = (last.get(s) ?? -Infinity) + minGapMs - Date.now();
        if (wait <= 0) fire(s);
        else pending.set(s, setTimeout(() => fire(s), wait));
      },
    });
    socket.start();
    return () => {
      socket.stop();
      pending.forEach(clearTimeout);
      setLive(false);
    };
  }, [projectId, enabled, minGapMs]);
  useEffect(() => {
    if (!enabled || live) return;
    const t = setInterval(() => {
      if (document.visibilityState !== 'hidden') latest.current('kpi');
    }, KPI_FALLBACK_POLL_MS);
    return () => clearInterval(t);
  }, [enabled, live]);
  return live;
}
