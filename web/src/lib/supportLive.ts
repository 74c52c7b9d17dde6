// Realtime for the Support page (issue 13 item 5). The server pushes
// `{type: "support", section, data, query, timestamp}` over the project's
// live feed (the same /live WebSocket as the visitor feed and the Inbox
// events) for the sections whose numbers changed, scoped to the viewer. The
// page tells it which range and filters it shows (`support.subscribe` with the
// routes' query, on every open socket and whenever they change); `data` is
// then that section's `GET` body for that query, which the page shows as it
// comes. A message without data (no subscription yet, the body could not be
// computed), or for another query than the page's now (it just changed), only
// says "this section changed": the page asks for that section again (at most
// once per `minGapMs`). Also read: the issue's `{type: kpi|conversation|…,
// data, timestamp}` shape, refetched (it names no query). Without an open
// socket the KPI strip is asked for every 30 s. Anything else on the feed is
// ignored. The socket itself: lib/feedSocket.
import { useEffect, useRef, useState } from 'react';
import { downloads } from '../api/client';
import { supportFields, type SectionName, type SupportQuery } from '../api/support';
import { FeedSocket } from './feedSocket';

export type LiveSection = SectionName | 'kpi';
const NAMES: LiveSection[] = ['kpi', 'conversation', 'whatsapp', 'customer', 'agent', 'automation', 'business'];
export const KPI_FALLBACK_POLL_MS = 30_000;

/** The routes' query parameters, as subscribed and echoed. */
export type SupportFields = Record<string, string>;

/** A support message: its section, its body (`null`: refetch) and the query it was computed for. */
export interface SupportUpdate {
  section: LiveSection;
  data: object | null;
  query: SupportFields | null;
}

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** A feed message read as a support update, or null when it is not one. */
export function supportUpdate(msg: unknown): SupportUpdate | null {
  if (!isObject(msg)) return null;
  let section: LiveSection;
  if (msg.type === 'support' && NAMES.includes(msg.section as LiveSection)) section = msg.section as LiveSection;
  // The wording: the section as the type, always with `data`.
  else if (NAMES.includes(msg.type as LiveSection) && 'data' in msg) section = msg.type as LiveSection;
  else return null;
  const query = isObject(msg.query) && Object.values(msg.query).every((v) => typeof v === 'string') ? (msg.query as SupportFields) : null;
  return { section, data: isObject(msg.data) ? msg.data : null, query };
}

/** The section a feed message reports a change of, or null when it is not a support update. */
export function supportSection(msg: unknown): LiveSection | null {
  return supportUpdate(msg)?.section ?? null;
}

/** Whether two queries ask the same (the same parameters, each with the same value). */
export function sameQuery(a: SupportFields | null, b: SupportFields | null): boolean {
  if (!a || !b) return a === b;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

export interface SupportSocketOptions {
  socketUrl: string;
  onUpdate: (u: SupportUpdate) => void;
  onLive: (live: boolean) => void;
  makeSocket?: (url: string) => WebSocket;
}

/** The project's live feed for its support updates, subscribed to the page's query. */
export class SupportSocket {
  private feed: FeedSocket;
  private query: SupportFields | null = null;

  constructor(opts: SupportSocketOptions) {
    this.feed = new FeedSocket({
      socketUrl: opts.socketUrl,
      makeSocket: opts.makeSocket,
      onLive: opts.onLive,
      onOpen: () => {
        if (this.query) this.feed.send({ type: 'support.subscribe', query: this.query });
      },
      onMessage: (msg) => {
        const u = supportUpdate(msg);
        if (u) opts.onUpdate(u);
      },
    });
  }

  start() {
    this.feed.start();
  }

  stop() {
    this.feed.stop();
  }

  /** Asks for the bodies of `query` (null: no bodies); sent now if the socket is open, and on every reopened one. */
  subscribe(query: SupportFields | null) {
    if (sameQuery(query, this.query)) return;
    this.query = query;
    this.feed.send(query ? { type: 'support.subscribe', query } : { type: 'support.unsubscribe' });
  }
}

export interface SupportLiveHandlers {
  /** Ask this section again (at most once per `minGapMs`). */
  refresh: (s: LiveSection) => void;
  /** Show this body of the section: the server computed it for the page's query. */
  apply: (s: LiveSection, data: object) => void;
}

/**
 * Keeps the page's socket subscribed to `query`; calls `apply(section, data)`
 * with a pushed body for that query, `refresh(section)` when the feed only
 * says a section changed (at most once per `minGapMs` per section; a change
 * inside the gap is refreshed at its end), and `refresh('kpi')` every 30 s
 * while the socket is not open. Returns whether it is open.
 */
export function useSupportLive(projectId: string, query: SupportQuery, on: SupportLiveHandlers, { enabled = true, minGapMs = 2000 } = {}): boolean {
  const [live, setLive] = useState(false);
  const latest = useRef(on);
  latest.current = on;
  const fields = supportFields(query);
  const current = useRef(fields);
  current.current = fields;
  const socket = useRef<SupportSocket | null>(null);
  useEffect(() => {
    if (!enabled) return;
    const last = new Map<LiveSection, number>();
    const pending = new Map<LiveSection, ReturnType<typeof setTimeout>>();
    const fire = (s: LiveSection) => {
      pending.delete(s);
      last.set(s, Date.now());
      latest.current.refresh(s);
    };
    const s = new SupportSocket({
      socketUrl: downloads.liveSocket(projectId),
      onLive: setLive,
      onUpdate: ({ section, data, query: of }) => {
        if (data && sameQuery(of, current.current)) {
          // Newer than any change a pending refetch was for.
          const t = pending.get(section);
          if (t) clearTimeout(t);
          pending.delete(section);
          latest.current.apply(section, data);
          return;
        }
        if (pending.has(section)) return;
        const wait = (last.get(section) ?? -Infinity) + minGapMs - Date.now();
        if (wait <= 0) fire(section);
        else pending.set(section, setTimeout(() => fire(section), wait));
      },
    });
    s.subscribe(current.current);
    s.start();
    socket.current = s;
    return () => {
      socket.current = null;
      s.stop();
      pending.forEach(clearTimeout);
      setLive(false);
    };
  }, [projectId, enabled, minGapMs]);
  const key = JSON.stringify(fields);
  useEffect(() => {
    socket.current?.subscribe(current.current);
  }, [key]);
  useEffect(() => {
    if (!enabled || live) return;
    const t = setInterval(() => {
      if (document.visibilityState !== 'hidden') latest.current.refresh('kpi');
    }, KPI_FALLBACK_POLL_MS);
    return () => clearInterval(t);
  }, [enabled, live]);
  return live;
}
