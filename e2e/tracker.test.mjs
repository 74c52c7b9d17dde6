// The built tracker (crates/vibe-server/assets/vibe.js) in Chromium against a fake
// collector, with a fake page clock: wire format, stub replay, retries, SPA page
// views, heartbeats, sessions and the leave beacon. Needs no vibe server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { launchChromium, poll as pollFor, recordPage } from './helpers.mjs';

const ASSET = new URL('../crates/vibe-server/assets/vibe.js', import.meta.url);
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
// What the server's snippet generator prints before the <script src>.
const STUB =
  'window.vibeQ=window.vibeQ||[];' +
  'window.vibeTrack=window.vibeTrack||function(){vibeQ.push(["track",arguments])};' +
  'window.vibeIdentify=window.vibeIdentify||function(){vibeQ.push(["identify",arguments])};';

const requests = []; // collect requests: {key, mode, type, status, batch}
const preflights = [];
const answers = []; // statuses for the next collect requests (default 202)
const browserLog = [];
const messages = () => requests.flatMap((r) => r.batch);
const find = (pred) => messages().find(pred);
const diagnostics = () =>
  `\n--- collect requests ---\n${requests.map((r) => JSON.stringify(r)).join('\n')}` +
  `\n--- browser ---\n${browserLog.join('\n')}`;
const poll = (what, fn) => pollFor(what, fn, { diagnostics });

test('vibe.js against a fake collector', { timeout: 60_000 }, async (t) => {
  // One server, two origins: the page on localhost, vibe.js and collect on 127.0.0.1.
  const server = createServer((req, res) => {
    if (req.method === 'OPTIONS') {
      preflights.push(req.url);
      return res.writeHead(204).end();
    }
    if (req.url === '/vibe.js') {
      return res.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(ASSET));
    }
    if (req.url === '/api/v1/collect') {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const status = answers.shift() ?? 202;
        const { key, batch } = JSON.parse(body);
        requests.push({
          key,
          mode: req.headers['sec-fetch-mode'],
          type: req.headers['content-type'],
          status,
          batch,
        });
        res.writeHead(status, { 'access-control-allow-origin': '*' }).end('{}');
      });
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html>
<html><head><title>Tracker test</title><link rel="icon" href="data:,">
<script>${STUB}vibeIdentify(42, {plan: "pro"}); vibeTrack("queued", {n: 1});</script>
<script defer src="http://127.0.0.1:${port}/vibe.js" data-key="wk_test"></script>
</head><body>hi</body></html>`);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const port = server.address().port;
  const browser = await launchChromium();
  t.after(async () => {
    await browser.close();
    server.close();
  });
  const page = await browser.newPage();
  recordPage(page, browserLog);
  await page.clock.install();

  await t.test('load: a page view, then the queued calls in order', async () => {
    await page.goto(`http://localhost:${port}/page.html?q=1`, {
      referer: 'https://www.example.org/search',
    });
    await poll('pageview, identify and event', () => messages().length >= 3);
    const [pv, identify, event] = messages();
    assert.equal(pv.type, 'pageview');
    assert.equal(pv.url, `http://localhost:${port}/page.html?q=1`);
    assert.equal(pv.title, 'Tracker test');
    assert.equal(pv.referrer, 'https://www.example.org/search');
    assert.deepEqual(Object.keys(pv.screen), ['w', 'h']);
    assert.equal(typeof pv.ts, 'number');
    assert.equal(pv.user_id, null);
    assert.equal(identify.type, 'identify');
    assert.equal(identify.user_id, '42');
    assert.deepEqual(identify.traits, { plan: 'pro' });
    assert.equal(event.type, 'event');
    assert.equal(event.name, 'queued');
    assert.deepEqual(event.props, { n: 1 });
    assert.equal(event.user_id, '42');
    for (const m of [pv, identify, event]) {
      assert.match(m.id, UUID_V4);
      assert.match(m.anonymous_id, UUID_V4);
      assert.equal(m.anonymous_id, pv.anonymous_id);
      assert.equal(m.session_id, pv.session_id);
    }
    assert.equal(new Set(messages().map((m) => m.id)).size, messages().length);
    for (const r of requests) {
      assert.equal(r.key, 'wk_test');
      assert.match(r.type, /^text\/plain/);
    }
    const stored = await page.evaluate(() => ({ ...localStorage }));
    assert.equal(stored.vibe_aid, pv.anonymous_id);
    assert.equal(stored.vibe_sid, pv.session_id);
    assert.equal(stored.vibe_uid, '42');
    assert.equal(await page.evaluate(() => window.vibeQ.length), 0);
  });

  await t.test('503 is retried after 5 s with the same ids; 400 is dropped', async () => {
    answers.push(503);
    await page.evaluate(() => vibeTrack('retry_me'));
    await poll('the 503', () => requests.some((r) => r.status === 503));
    const id = find((m) => m.name === 'retry_me').id;
    await page.clock.fastForward(5000);
    await poll('the retry', () => messages().filter((m) => m.id === id).length === 2);
    assert.equal(requests.at(-1).status, 202);

    answers.push(400);
    await page.evaluate(() => vibeTrack('dropped'));
    await poll('the 400', () => requests.some((r) => r.status === 400));
    await page.evaluate(() => vibeTrack('after'));
    await poll('the next event', () => find((m) => m.name === 'after'));
    assert.equal(messages().filter((m) => m.name === 'dropped').length, 1);
  });

  await t.test('SPA navigation: a page view when path or query changes', async () => {
    const before = messages().length;
    await page.evaluate(() => {
      history.pushState({}, '', '/a?x=1');
      history.replaceState({}, '', '/a?x=1#same-page'); // no page view
      history.pushState({}, '', '/b');
      history.back(); // popstate to /a?x=1
    });
    await poll('3 page views', () => messages().slice(before).length >= 3);
    await page.evaluate(() => vibeTrack('sync')); // anything after would show up too
    await poll('sync', () => find((m) => m.name === 'sync'));
    const urls = messages()
      .slice(before)
      .filter((m) => m.type === 'pageview')
      .map((m) => new URL(m.url).pathname + new URL(m.url).search);
    assert.deepEqual(urls, ['/a?x=1', '/b', '/a?x=1']);
    assert.ok(messages().slice(before).every((m) => !m.referrer));
  });

  await t.test('a heartbeat after 30 s of silence in a visible tab', async () => {
    const before = messages().length;
    await page.clock.fastForward(29_000);
    await page.clock.fastForward(1_000);
    await poll('heartbeat', () => messages().slice(before).some((m) => m.type === 'heartbeat'));
    const hb = messages().at(-1);
    assert.equal(hb.type, 'heartbeat');
    assert.equal(new URL(hb.url).pathname, '/a');
    assert.equal(messages().slice(before).length, 1);
  });

  await t.test('the session resumes across loads, and ends after 30 idle minutes', async () => {
    const first = messages()[0];
    const before = messages().length;
    await page.reload();
    const pv = await poll('page view after reload', () =>
      messages().slice(before).find((m) => m.type === 'pageview')
    );
    assert.equal(pv.session_id, first.session_id);
    assert.equal(pv.anonymous_id, first.anonymous_id);
    assert.equal(pv.user_id, '42');

    await page.evaluate(() => (localStorage.vibe_sts = Date.now() - 31 * 60 * 1000));
    await page.evaluate(() => vibeTrack('later'));
    await poll('event', () => find((m) => m.name === 'later'));
    const later = find((m) => m.name === 'later');
    assert.notEqual(later.session_id, first.session_id);
    assert.equal(later.anonymous_id, first.anonymous_id);
  });

  await t.test('a signed identify sends user_hash with it and after it', async () => {
    const hash = 'ab'.repeat(32);
    await page.evaluate((h) => {
      vibeIdentify('43', { plan: 'team' }, h);
      vibeTrack('signed_next');
    }, hash);
    await poll('the event after the signed identify', () => find((m) => m.name === 'signed_next'));
    assert.equal(find((m) => m.type === 'identify' && m.user_id === '43').user_hash, hash);
    assert.equal(find((m) => m.name === 'signed_next').user_hash, hash);
    // A later identify without a hash forgets the old one.
    await page.evaluate(() => {
      vibeIdentify('44');
      vibeTrack('unsigned_next');
    });
    await poll('the event after the unsigned identify', () => find((m) => m.name === 'unsigned_next'));
    assert.equal(find((m) => m.name === 'unsigned_next').user_hash, undefined);
  });

  await t.test('pagehide sends a leave beacon; never a CORS preflight', async () => {
    const before = messages().length; // (the reload above sent a leave too)
    const sid = messages().at(-1).session_id;
    await page.close({ runBeforeUnload: true });
    const leave = await poll('leave', () => messages().slice(before).find((m) => m.type === 'leave'));
    assert.equal(leave.session_id, sid);
    assert.ok(leave.url);
    const beacon = requests.find((r) => r.batch.includes(leave));
    assert.equal(beacon.mode, 'no-cors'); // sendBeacon, not fetch
    assert.deepEqual(preflights, []);
  });
});
