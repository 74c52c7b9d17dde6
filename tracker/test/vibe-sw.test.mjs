// The push service worker, as built (crates/vibe-server/assets/vibe-sw.js) and
// as written (tracker/vibe-sw.js): it parses as a classic worker script, shows
// the notification of a JSON payload, and on a click focuses a window already
// at the URL (recording the click in the background) or opens the
// click-tracking URL. Run by `npm --prefix tracker test`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import vm from 'node:vm';

const files = ['../vibe-sw.js', '../../crates/vibe-server/assets/vibe-sw.js'];

function load(file, windows = []) {
  const handlers = {};
  const calls = { shown: [], opened: [], focused: [], fetched: [] };
  const self = {
    addEventListener: (type, fn) => (handlers[type] = fn),
    registration: {
      showNotification: (title, options) => (calls.shown.push({ title, options }), Promise.resolve()),
    },
  };
  const clients = {
    matchAll: async () =>
      windows.map((url) => ({ url, focus: async () => calls.focused.push(url) })),
    openWindow: async (url) => calls.opened.push(url),
  };
  const fetch = async (url, init) => (calls.fetched.push([url, init]), {});
  const code = readFileSync(new URL(file, import.meta.url), 'utf8');
  vm.runInNewContext(code, { self, clients, fetch });
  return { handlers, calls };
}

async function fire(handler, event) {
  let done;
  handler({ ...event, waitUntil: (p) => (done = p) });
  await done;
}

for (const file of files) {
  test(`${file}: shows the payload's notification`, async () => {
    const { handlers, calls } = load(file);
    const payload = { title: 'Sale', body: '20% off', url: 'https://shop.example/sale', icon: 'https://shop.example/i.png' };
    await fire(handlers.push, { data: { json: () => payload, text: () => JSON.stringify(payload) } });
    assert.equal(calls.shown.length, 1);
    assert.equal(calls.shown[0].title, 'Sale');
    assert.equal(calls.shown[0].options.body, '20% off');
    assert.equal(calls.shown[0].options.icon, 'https://shop.example/i.png');
    assert.deepEqual({ ...calls.shown[0].options.data }, { url: 'https://shop.example/sale', click: undefined });
  });

  test(`${file}: a payload that is not JSON is shown as its text`, async () => {
    const { handlers, calls } = load(file);
    await fire(handlers.push, { data: { json: () => { throw new SyntaxError('x'); }, text: () => 'hello' } });
    assert.equal(calls.shown[0].options.body, 'hello');
  });

  test(`${file}: a click opens the click-tracking URL`, async () => {
    const { handlers, calls } = load(file, ['https://shop.example/other']);
    let closed = 0;
    const notification = { close: () => closed++, data: { url: 'https://shop.example/sale', click: 'https://vibe.example/r/tok' } };
    await fire(handlers.notificationclick, { notification });
    assert.equal(closed, 1);
    assert.deepEqual(calls.opened, ['https://vibe.example/r/tok']);
    assert.deepEqual(calls.focused, []);
  });

  test(`${file}: a click focuses a window already at the URL and records the click`, async () => {
    const { handlers, calls } = load(file, ['https://shop.example/sale']);
    const notification = { close() {}, data: { url: 'https://shop.example/sale', click: 'https://vibe.example/r/tok' } };
    await fire(handlers.notificationclick, { notification });
    assert.deepEqual(calls.focused, ['https://shop.example/sale']);
    assert.deepEqual(calls.opened, []);
    assert.equal(calls.fetched[0][0], 'https://vibe.example/r/tok');
    assert.equal(calls.fetched[0][1].mode, 'no-cors');
  });

  test(`${file}: without a click URL the URL itself opens`, async () => {
    const { handlers, calls } = load(file);
    await fire(handlers.notificationclick, { notification: { close() {}, data: { url: 'https://shop.example/' } } });
    assert.deepEqual(calls.opened, ['https://shop.example/']);
  });
}
