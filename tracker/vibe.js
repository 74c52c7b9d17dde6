/*
 * vibe.js — the Vibe tracking snippet (readable source).
 *
 * Built by `npm --prefix tracker run build` into crates/vibe-server/assets/vibe.js,
 * which the `vibe` binary embeds and serves at /vibe.js. Edit this file, never the
 * minified output; `npm --prefix tracker run check` fails when that output is stale.
 *
 * Embedding:
 *   <script defer src="https://VIBE_HOST/vibe.js" data-key="WRITE_KEY"></script>
 * Optional `data-api="https://other"` sends to another origin than the script's own.
 *
 * Public API (also queued by the inline stub before this file loads):
 *   vibeTrack(name, props)        custom event
 *   vibeIdentify(userId, traits)  ties this browser to your user id
 *   vibeIdentify(userId, traits, userHash)  the same, signed by your backend
 *     (userHash = hex HMAC-SHA256 of userId with the project's identity secret;
 *     required when the project verifies identities)
 *   vibePush.subscribe({serviceWorker})  web push: asks the visitor's permission
 *     (call it from a click), registers the site's service worker (default
 *     '/vibe-sw.js', a file on the site that imports VIBE_HOST/vibe-sw.js; see
 *     docs/push.md), subscribes with the project's VAPID key and stores the
 *     subscription on this visitor's contact. A promise; rejects when refused.
 *   vibePush.unsubscribe({serviceWorker})  the reverse.
 *
 * Wire format: POST {api}/api/v1/collect, body {"key", "batch": [message...]} sent
 * as text/plain (no custom headers, so no CORS preflight). Every message has a fresh
 * UUID, so a retried batch is stored once.
 *
 * Size matters (it is on every page of every site; budget: 2 KiB gzipped, aim
 * ~1.1 KiB): keep code compact and internal names local so terser can mangle them.
 * Targets browsers with ES2018 (object spread), fetch and sendBeacon.
 */
(() => {
  const w = window;
  const d = document;
  const loc = location;
  const nav = navigator;

  const script = d.currentScript;
  const key = script && script.dataset.key;
  // No key, or loaded twice (e.g. by a tag manager and by hand): do nothing.
  if (!key || w.__vibe) return;
  w.__vibe = 1;

  // data-api is an origin without a trailing slash.
  const origin = (script.dataset.api || new URL(script.src).origin) + '/api/v1/';
  const api = origin + 'collect';

  const SESSION_MS = 30 * 60 * 1000; // idle time after which a new session starts
  const HEARTBEAT_MS = 30 * 1000;
  const RETRY_MS = 5000;
  const MAX_TRIES = 4;

  // --- storage: localStorage when it works, otherwise the in-memory variables --

  // store(k) reads, store(k, v) writes.
  const store = (k, v) => {
    try {
      return v == null ? localStorage.getItem(k) : localStorage.setItem(k, v);
    } catch (e) {}
  };

  // RFC 4122 version 4 UUID from crypto.getRandomValues (crypto.randomUUID is
  // missing on insecure origins). Maps "10000000-1000-4000-8000-100000000000":
  // each 0/1/8 digit becomes a random hex digit; 4 stays, 8 becomes 8..b.
  const uuid = () =>
    ([1e7] + -1e3 + -4e3 + -8e3 + -1e11).replace(/[018]/g, (c) =>
      (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16)
    );

  const anonId = store('vibe_aid') || uuid();
  store('vibe_aid', anonId);
  let userId = store('vibe_uid');
  let userHash = store('vibe_uh'); // the signature of userId, if the site sent one

  // --- session -----------------------------------------------------------------
  // Shared by the tabs through localStorage; kept in memory where that fails.

  let sessionId;
  let lastActive = 0; // ms of the last message this tab sent
  let freshSession; // did the last message start a new session?

  // --- sending -----------------------------------------------------------------

  let queue = []; // [messageJson, failedAttempts]
  let inFlight;
  let retryTimer;
  let heartbeatTimer;

  const body = (items) =>
    '{"key":' + JSON.stringify(key) + ',"batch":[' + items.map((x) => x[0]) + ']}';

  const post = (data) => fetch(api, { method: 'POST', body: data, keepalive: true });

  // Sends everything queued in one request. On a network error, 429 or 5xx the
  // messages go back to the front of the queue (same ids) and are retried with the
  // next message or after RETRY_MS, MAX_TRIES times in all; other 4xx are dropped.
  const flush = () => {
    if (inFlight || !queue.length) return;
    const items = queue;
    queue = [];
    inFlight = 1;
    clearTimeout(retryTimer);
    post(body(items))
      .then((r) => {
        if (r.status > 499 || r.status == 429) throw 0;
        inFlight = 0;
        flush();
      })
      .catch(() => {
        inFlight = 0;
        queue = items.filter((x) => ++x[1] < MAX_TRIES).concat(queue);
        retryTimer = setTimeout(flush, RETRY_MS);
      });
  };

  const enqueue = (msg) => {
    queue.push([JSON.stringify(msg), 0]);
    flush();
  };

  // Heartbeat after HEARTBEAT_MS without any message, but only in a visible tab:
  // run by a timer that every message restarts, and on becoming visible again.
  // (The margin absorbs timers that fire a little early by Date.now()'s clock.)
  const heartbeat = () =>
    !d.hidden && Date.now() - lastActive > HEARTBEAT_MS - 500 && enqueue(message('heartbeat'));

  // Builds a message of `type` with the common fields plus `extra`. Resumes the
  // session or starts a new one, records activity now, and restarts the
  // heartbeat countdown.
  const message = (type, extra) => {
    const ts = Date.now();
    sessionId = store('vibe_sid') || sessionId;
    freshSession = !sessionId || ts - (store('vibe_sts') || lastActive) > SESSION_MS;
    if (freshSession) sessionId = uuid();
    store('vibe_sid', sessionId);
    store('vibe_sts', (lastActive = ts));
    clearTimeout(heartbeatTimer);
    heartbeatTimer = setTimeout(heartbeat, HEARTBEAT_MS);
    return {
      type,
      id: uuid(),
      anonymous_id: anonId,
      user_id: userId, // null is the same as absent
      user_hash: userHash || void 0, // undefined is left out by JSON.stringify
      session_id: sessionId,
      ts,
      url: loc.href,
      ...extra,
    };
  };

  // --- page views --------------------------------------------------------------

  const here = () => loc.pathname + loc.search;
  let page; // pathname+search of the last page view
  let referrer = d.referrer; // sent with the first page view only

  const pageview = () => {
    page = here();
    const msg = message('pageview', {
      title: d.title,
      screen: { w: screen.width, h: screen.height },
    });
    // The referrer counts when it starts a session or comes from another site.
    if (referrer && (freshSession || referrer.split('/')[2] != loc.host)) {
      msg.referrer = referrer;
    }
    referrer = '';
    enqueue(msg);
  };

  // SPA navigation: a page view whenever pathname+search changes.
  const route = () => here() != page && pageview();
  for (const k of ['pushState', 'replaceState']) {
    const original = history[k];
    history[k] = (...args) => ((args = original.apply(history, args)), route(), args);
  }
  addEventListener('popstate', route);

  // --- public API --------------------------------------------------------------

  // Spreading copies a plain object and turns anything else into one, so a bad
  // argument cannot get the whole batch rejected.
  const track = (name, props) =>
    name && enqueue(message('event', { name: '' + name, props: { ...props } }));

  const identify = (id, traits, hash) => {
    if (!id) return;
    store('vibe_uid', (userId = '' + id));
    store('vibe_uh', (userHash = hash ? '' + hash : ''));
    enqueue(message('identify', { traits: { ...traits } }));
  };

  // --- web push ------------------------------------------------------------------
  // Kept here (not in a tag of its own) because it needs the visitor's ids
  // above and is a few hundred bytes; the service worker is vibe-sw.js.

  const pushPost = (path, data) =>
    fetch(origin + 'push/' + path, { method: 'POST', body: JSON.stringify({ key, ...data }) }).then(
      (r) => r.ok || Promise.reject(r.status)
    );

  const registration = (o) => nav.serviceWorker.register((o && o.serviceWorker) || '/vibe-sw.js');

  const subscribe = (o) =>
    Notification.requestPermission()
      .then((p) => (p == 'granted' ? registration(o) : Promise.reject(p)))
      .then(() => nav.serviceWorker.ready)
      .then((reg) =>
        reg.pushManager.getSubscription().then(
          (s) =>
            s ||
            fetch(origin + 'push/key?key=' + encodeURIComponent(key))
              .then((r) => r.json())
              .then((k) =>
                reg.pushManager.subscribe({
                  userVisibleOnly: true,
                  // base64url → bytes (atob accepts the missing padding)
                  applicationServerKey: Uint8Array.from(
                    atob(k.public_key.replace(/-/g, '+').replace(/_/g, '/')),
                    (c) => c.charCodeAt(0)
                  ),
                })
              )
        )
      )
      .then((s) =>
        pushPost('subscribe', {
          anonymous_id: anonId,
          user_id: userId,
          user_hash: userHash || void 0,
          subscription: s.toJSON(),
        })
      );

  const unsubscribe = (o) =>
    registration(o)
      .then((reg) => reg.pushManager.getSubscription())
      .then((s) => s && s.unsubscribe().then(() => pushPost('unsubscribe', { endpoint: s.endpoint })));

  // --- lifecycle ---------------------------------------------------------------

  // Leaving: whatever is still queued plus a leave, as a beacon (fetch keepalive
  // where sendBeacon is missing or refuses).
  addEventListener('pagehide', () => {
    const data = body(queue.concat([[JSON.stringify(message('leave'))]]));
    queue = [];
    (nav.sendBeacon && nav.sendBeacon(api, data)) || post(data).catch(() => {});
  });
  // Back from the back/forward cache: the leave was sent, so count the page again.
  addEventListener('pageshow', (e) => e.persisted && pageview());
  d.addEventListener('visibilitychange', heartbeat);

  // --- start -------------------------------------------------------------------

  pageview();
  // Replays, in order, the calls that the inline stub queued before this file
  // loaded. The real functions are installed first so that a call that throws
  // (e.g. circular props) cannot leave the stub in place.
  const queued = w.vibeQ || [];
  w.vibeQ = [];
  w.vibeTrack = track;
  w.vibeIdentify = identify;
  w.vibePush = { subscribe, unsubscribe };
  for (const [kind, args] of queued) (kind == 'identify' ? identify : track)(...args);
})();
