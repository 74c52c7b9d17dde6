// vibePush in the tracker (source and built asset), in a vm context with the
// browser APIs it touches faked: subscribe asks permission, registers the
// site's service worker, subscribes with the project's VAPID key as bytes and
// posts the subscription with the visitor's anonymous id; a refusal stops
// before any registration; unsubscribe removes it in the browser and in Vibe.
// Run by `npm --prefix tracker test`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { webcrypto } from 'node:crypto';
import vm from 'node:vm';

const files = ['../vibe.js', '../../crates/vibe-server/assets/vibe.js'];
const KEY = 'BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8';

function load(file, { permission = 'granted', existing = null } = {}) {
  const calls = { fetch: [], register: [], subscribe: [], unsubscribed: 0 };
  const storage = new Map();
  const subscription = {
    endpoint: 'https://push.example/send/1',
    toJSON: () => ({ endpoint: 'https://push.example/send/1', keys: { p256dh: 'pk', auth: 'au' } }),
    unsubscribe: async () => (calls.unsubscribed++, true),
  };
  const registration = {
    pushManager: {
      getSubscription: async () => existing && subscription,
      subscribe: async (opts) => (calls.subscribe.push(opts), subscription),
    },
  };
  const ctx = {
    document: {
      currentScript: { dataset: { key: 'wk_test' }, src: 'https://vibe.example/vibe.js' },
      hidden: false,
      referrer: '',
      title: 'Shop',
      addEventListener() {},
    },
    location: { href: 'https://shop.example/', pathname: '/', search: '', host: 'shop.example' },
    navigator: {
      sendBeacon: () => true,
      serviceWorker: {
        register: async (path) => (calls.register.push(path), registration),
        ready: Promise.resolve(registration),
      },
    },
    localStorage: { getItem: (k) => storage.get(k) ?? null, setItem: (k, v) => storage.set(k, '' + v) },
    screen: { width: 1, height: 1 },
    history: { pushState() {}, replaceState() {} },
    addEventListener() {},
    setTimeout: () => 0,
    clearTimeout() {},
    crypto: webcrypto,
    URL,
    atob,
    Notification: { requestPermission: async () => permission },
    fetch: async (url, init) => {
      calls.fetch.push([url, init]);
      if (url.includes('/push/key')) return { ok: true, status: 200, json: async () => ({ public_key: KEY }) };
      return { ok: true, status: url.includes('collect') ? 202 : 200, json: async () => ({}) };
    },
  };
  ctx.window = ctx;
  vm.runInNewContext(readFileSync(new URL(file, import.meta.url), 'utf8'), ctx);
  return { ctx, calls, storage };
}

const posts = (calls, path) =>
  calls.fetch.filter(([u]) => u.endsWith(path)).map(([, init]) => JSON.parse(init.body));

for (const file of files) {
  test(`${file}: subscribe registers, subscribes with the key and posts the subscription`, async () => {
    const { ctx, calls, storage } = load(file);
    await ctx.vibePush.subscribe();
    assert.deepEqual(calls.register, ['/vibe-sw.js']);
    assert.equal(calls.fetch.find(([u]) => u.includes('/push/key'))[0], 'https://vibe.example/api/v1/push/key?key=wk_test');
    assert.equal(calls.subscribe.length, 1);
    assert.equal(calls.subscribe[0].userVisibleOnly, true);
    assert.deepEqual([...calls.subscribe[0].applicationServerKey], [...Buffer.from(KEY, 'base64url')]);
    const [body] = posts(calls, '/api/v1/push/subscribe');
    assert.deepEqual(body, {
      key: 'wk_test',
      anonymous_id: storage.get('vibe_aid'),
      user_id: null,
      subscription: { endpoint: 'https://push.example/send/1', keys: { p256dh: 'pk', auth: 'au' } },
    });
  });

  test(`${file}: an existing subscription is posted again, not remade; another worker path`, async () => {
    const { ctx, calls } = load(file, { existing: true });
    await ctx.vibePush.subscribe({ serviceWorker: '/sw.js' });
    assert.deepEqual(calls.register, ['/sw.js']);
    assert.equal(calls.subscribe.length, 0);
    assert.equal(posts(calls, '/api/v1/push/subscribe').length, 1);
  });

  test(`${file}: a refused permission rejects before registering`, async () => {
    const { ctx, calls } = load(file, { permission: 'denied' });
    await assert.rejects(ctx.vibePush.subscribe(), (e) => e === 'denied');
    assert.deepEqual(calls.register, []);
    assert.equal(posts(calls, '/api/v1/push/subscribe').length, 0);
  });

  test(`${file}: unsubscribe removes it in the browser and in Vibe`, async () => {
    const { ctx, calls } = load(file, { existing: true });
    await ctx.vibePush.unsubscribe();
    assert.equal(calls.unsubscribed, 1);
    assert.deepEqual(posts(calls, '/api/v1/push/unsubscribe'), [
      { key: 'wk_test', endpoint: 'https://push.example/send/1' },
    ]);
  });
}
