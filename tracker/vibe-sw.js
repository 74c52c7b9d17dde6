/*
 * vibe-sw.js — the Vibe web push service worker (readable source).
 *
 * Built by `npm --prefix tracker run build` into crates/vibe-server/assets/vibe-sw.js,
 * served by Vibe at /vibe-sw.js. A service worker must come from the site's own
 * origin, so the site serves a one-line /vibe-sw.js of its own:
 *   importScripts('https://VIBE_HOST/vibe-sw.js');
 * (or proxies this file); `vibePush.subscribe()` in vibe.js registers it.
 *
 * push: the payload is JSON {title, body, url, icon, click_url} (encrypted by
 * Vibe, decrypted by the browser); it is shown as a notification.
 * notificationclick: a window already showing `url` is focused (the click is
 * still recorded by a background request to `click_url`); otherwise a new
 * window opens `click_url` (the click-tracking redirect to `url`) or `url`.
 */
self.addEventListener('push', (e) => {
  let d = {};
  try {
    d = e.data ? e.data.json() : {};
  } catch (x) {
    d = { body: e.data.text() };
  }
  e.waitUntil(
    self.registration.showNotification(d.title || '', {
      body: d.body || '',
      icon: d.icon,
      data: { url: d.url, click: d.click_url },
    })
  );
});

self.addEventListener('notificationclick', (e) => {
  e.notification.close();
  const { url, click } = e.notification.data || {};
  e.waitUntil(
    clients.matchAll({ type: 'window', includeUncontrolled: true }).then((list) => {
      for (const c of list) {
        if (url && c.url == url && c.focus) {
          if (click) fetch(click, { mode: 'no-cors', credentials: 'omit', redirect: 'manual' }).catch(() => {});
          return c.focus();
        }
      }
      if (click || url) return clients.openWindow(click || url);
      if (list[0] && list[0].focus) return list[0].focus();
    })
  );
});
