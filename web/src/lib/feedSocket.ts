// The project's live feed (`GET /api/v1/projects/{id}/live`) as the Inbox and
// the Support page keep it open: one WebSocket, reopened with backoff (1 s,
// doubling, at most 30 s) unless the server closed it for the credential or
// the membership (4401 / 4403: the screens' own API calls report that). Each
// JSON message is handed on; a `snapshot` says the socket is live, and one
// after the first (a reconnect, or the server saw the client fall behind)
// that events may have been missed. What the screen has to tell the server
// goes out on every open socket (`onOpen`, `send`).

export interface FeedSocketOptions {
  socketUrl: string;
  /** Every JSON message except snapshots. */
  onMessage: (msg: unknown) => void;
  /** True once a snapshot arrived; false when the socket closed. */
  onLive: (live: boolean) => void;
  /** A snapshot after the first: events may have been missed. */
  onResync?: () => void;
  /** A socket opened: the place to (re)send what the server should know. */
  onOpen?: () => void;
  makeSocket?: (url: string) => WebSocket;
}

export class FeedSocket {
  private socket: WebSocket | null = null;
  private open = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private attempts = 0;
  private stopped = false;
  private snapshots = 0;

  constructor(private opts: FeedSocketOptions) {}

  start() {
    this.connect();
  }

  stop() {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    const s = this.socket;
    this.socket = null;
    this.open = false;
    if (s) {
      s.onopen = null;
      s.onclose = null;
      s.onmessage = null;
      s.close(1000);
    }
  }

  /** Sends `msg` as JSON; false when no socket is open (`onOpen` sends it then). */
  send(msg: unknown): boolean {
    if (!this.socket || !this.open) return false;
    this.socket.send(JSON.stringify(msg));
    return true;
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
    s.onopen = () => {
      this.open = true;
      this.opts.onOpen?.();
    };
    s.onmessage = (e) => {
      let msg: unknown;
      try {
        msg = JSON.parse(String(e.data));
      } catch {
        return;
      }
      if ((msg as { type?: unknown } | null)?.type === 'snapshot') {
        this.attempts = 0;
        this.opts.onLive(true);
        // The server resends a snapshot after a lag or a relay reconnect.
        if (this.snapshots++ > 0) this.opts.onResync?.();
        return;
      }
      this.opts.onMessage(msg);
    };
    s.onclose = (e) => {
      this.socket = null;
      this.open = false;
      this.opts.onLive(false);
      // Signed out or no longer a member: the screen's API calls report that.
      if (e.code === 4401 || e.code === 4403) return;
      this.retry();
    };
  }

  private retry() {
    if (this.stopped) return;
    this.snapshots = 1; // the next connection's snapshot is a resync
    const delay = Math.min(30_000, 1000 * 2 ** this.attempts++);
    this.timer = setTimeout(() => this.connect(), delay);
  }
}
