/*
 * vibe-chat.js — the Vibe chat widget (readable source), issue 12 "In-app".
 *
 * Built by `npm --prefix tracker run build` (with vibe.js) into
 * crates/vibe-server/assets/vibe-chat.js, served at /vibe-chat.js. It is a
 * separate, opt-in tag so vibe.js stays small; the dashboard's snippet shows
 * it when the project's in-app channel is enabled:
 *   <script defer src="https://VIBE_HOST/vibe.js" data-key="WRITE_KEY"></script>
 *   <script defer src="https://VIBE_HOST/vibe-chat.js" data-key="WRITE_KEY"></script>
 * Optional `data-api` as for vibe.js. The widget asks /api/v1/chat/config and
 * shows nothing while the channel is disabled.
 *
 * The visitor is vibe.js's: the anonymous id (`vibe_aid`) and, when the site
 * signed it, the user id and hash (`vibe_uid`, `vibe_uh`) from localStorage.
 * POST /api/v1/chat/session turns them into a server-signed visitor token,
 * then /api/v1/chat/messages (GET, POST) and /api/v1/chat/read use it. The
 * thread is polled (3 s while open, 20 s closed, for the unread badge).
 * No framework; plain DOM under #vibe-chat with `vc-` classes.
 */
(() => {
  const w = window;
  const d = document;
  const script = d.currentScript;
  const key = script && script.dataset.key;
  if (!key || w.__vibeChat) return;
  w.__vibeChat = 1;
  const api = (script.dataset.api || new URL(script.src).origin) + '/api/v1/chat/';

  const store = (k, v) => {
    try {
      return v == null ? localStorage.getItem(k) : localStorage.setItem(k, v);
    } catch (e) {}
  };
  const uuid = () =>
    ([1e7] + -1e3 + -4e3 + -8e3 + -1e11).replace(/[018]/g, (c) =>
      (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16)
    );

  let token = null;
  let open = false;
  let messages = [];
  let timer = 0;

  const call = async (path, body, retried) => {
    const headers = { 'Content-Type': 'application/json' };
    if (token) headers.Authorization = 'Bearer ' + token;
    const res = await fetch(api + path, {
      method: body ? 'POST' : 'GET',
      headers,
      body: body && JSON.stringify(body),
    });
    if (res.status === 401 && !retried && path !== 'session') {
      await session();
      return call(path, body, 1);
    }
    if (!res.ok) throw res.status;
    return res.json();
  };

  const session = async () => {
    token = null;
    let aid = store('vibe_aid');
    if (!aid) store('vibe_aid', (aid = uuid()));
    const r = await call('session', {
      key,
      anonymous_id: aid,
      user_id: store('vibe_uid') || void 0,
      user_hash: store('vibe_uh') || void 0,
    });
    token = r.token;
  };

  // --- UI ----------------------------------------------------------------------
  const el = (tag, cls, text) => {
    const e = d.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  };
  const root = el('div');
  root.id = 'vibe-chat';
  const style = el(
    'style',
    0,
    '#vibe-chat{position:fixed;right:16px;bottom:16px;z-index:2147483000;font:14px/1.4 system-ui,sans-serif;color:#111}' +
      '#vibe-chat button{font:inherit;cursor:pointer;border:0;border-radius:8px;background:#4f46e5;color:#fff;padding:8px 14px}' +
      '.vc-panel{display:none;flex-direction:column;width:300px;height:380px;margin-bottom:8px;background:#fff;border:1px solid #ddd;border-radius:12px;box-shadow:0 8px 24px #0002;overflow:hidden}' +
      '.vc-open .vc-panel{display:flex}.vc-list{flex:1;overflow:auto;padding:8px}' +
      '.vc-m{max-width:80%;margin:4px 0;padding:6px 10px;border-radius:10px;background:#f1f1f4;white-space:pre-wrap;word-wrap:break-word}' +
      '.vc-in{margin-left:auto;background:#e0e7ff}.vc-st{display:block;font-size:11px;color:#666;text-align:right}' +
      '.vc-form{display:flex;gap:6px;padding:8px;border-top:1px solid #eee}.vc-form textarea{flex:1;resize:none;font:inherit;padding:6px;border:1px solid #ccc;border-radius:8px}' +
      '.vc-badge{margin-left:6px;background:#ef4444;border-radius:9px;padding:0 6px;font-size:12px}.vc-err{color:#b91c1c;font-size:12px;padding:0 8px}'
  );
  const panel = el('div', 'vc-panel');
  const list = el('div', 'vc-list');
  list.setAttribute('aria-live', 'polite');
  const err = el('div', 'vc-err');
  const form = el('form', 'vc-form');
  const input = el('textarea');
  input.rows = 2;
  input.maxLength = 2000;
  input.placeholder = 'Write a message…';
  input.setAttribute('aria-label', 'Message');
  const sendBtn = el('button', 0, 'Send');
  sendBtn.type = 'submit';
  form.append(input, sendBtn);
  panel.append(list, err, form);
  const toggle = el('button', 'vc-toggle', 'Chat');
  toggle.type = 'button';
  const badge = el('span', 'vc-badge');
  root.append(style, panel, toggle);

  const render = () => {
    const unread = messages.filter((m) => m.direction === 'out' && !m.read_at).length;
    toggle.textContent = open ? 'Close' : 'Chat';
    badge.textContent = unread;
    if (unread && !open) toggle.append(badge);
    list.textContent = '';
    if (!messages.length) list.append(el('div', 'vc-m', 'Hi! How can we help?'));
    for (const m of messages) {
      const b = el('div', 'vc-m vc-' + m.direction, m.body);
      b.dataset.id = m.id;
      if (m.direction === 'in') b.append(el('span', 'vc-st', m.delivery_status === 'read' ? 'Read' : 'Sent'));
      list.append(b);
    }
    list.scrollTop = list.scrollHeight;
  };

  const refresh = async () => {
    clearTimeout(timer);
    try {
      messages = (await call('messages')).messages;
      const last = messages.filter((m) => m.direction === 'out' && !m.read_at).pop();
      if (open && last) {
        await call('read', { message_id: last.id });
        messages.forEach((m) => m.direction === 'out' && (m.read_at = m.read_at || 1));
      }
      render();
    } catch (e) {}
    timer = setTimeout(refresh, open ? 3000 : 20000);
  };

  toggle.onclick = () => {
    open = !open;
    root.classList.toggle('vc-open', open);
    render();
    if (open) input.focus();
    refresh();
  };
  form.onsubmit = async (e) => {
    e.preventDefault();
    const body = input.value.trim();
    if (!body) return;
    sendBtn.disabled = true;
    err.textContent = '';
    try {
      const r = await call('messages', { body });
      messages.push(r.message);
      input.value = '';
      render();
    } catch (s) {
      err.textContent = s === 429 ? 'Too many messages; wait a moment.' : 'Not sent; try again.';
    }
    sendBtn.disabled = false;
  };

  const start = async () => {
    try {
      const c = await fetch(api + 'config?key=' + encodeURIComponent(key)).then((r) => r.json());
      if (!c.enabled) return;
      await session();
    } catch (e) {
      return;
    }
    d.body.append(root);
    render();
    refresh();
  };
  d.readyState === 'loading' ? d.addEventListener('DOMContentLoaded', start) : start();
})();
