// Browser end-to-end test of the dashboard embedded in the real `vibe` binary:
// sign in, the overview with demo data, a visitor on another origin appearing
// in the table without a reload and leaving when its page closes, the user
// modal, the users CSV download, the integration page (copy snippet, first
// event light), settings, a phone-width overview, and session expiry.
// Writes screenshots of each screen to docs/screenshots/.
//
//   make web && cargo build --bin vibe && bash scripts/ensure-chromium.sh
//   cd e2e && npm ci && VIBE_BIN=../target/debug/vibe node --test dashboard.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { USER_AGENT, freePort, launchChromium, poll as pollFor, recordPage } from './helpers.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const VIBE_BIN = process.env.VIBE_BIN
  ? path.resolve(process.env.VIBE_BIN)
  : path.join(ROOT, 'target/debug/vibe');
const SHOTS = path.join(ROOT, 'docs/screenshots');
const EMAIL = 'admin@example.com';
const PASSWORD = 'correct-horse-battery';

const serverLog = [];
const browserLog = [];
const tail = (lines, n = 40) => lines.slice(-n).join('\n') || '(empty)';
const diagnostics = () =>
  `\n--- browser (last lines) ---\n${tail(browserLog)}\n--- vibe serve (last lines) ---\n${tail(serverLog)}`;
const poll = (what, fn, ms = 15_000) => pollFor(what, fn, { ms, diagnostics });

test('the dashboard in Chromium against the real binary', { timeout: 240_000 }, async (t) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'vibe-dash-'));
  const port = await freePort();
  const vibe = `http://127.0.0.1:${port}`;
  const env = { ...process.env, VIBE_ADDR: `127.0.0.1:${port}`, VIBE_DATA_DIR: dataDir, VIBE_ADMIN_EMAIL: EMAIL, VIBE_ADMIN_PASSWORD: PASSWORD };
  let server, pageServer, browser;
  const pages = new Map();

  t.after(async () => {
    await browser?.close().catch(() => {});
    pageServer?.close();
    if (server && server.exitCode === null) {
      server.kill('SIGTERM');
      const exited = new Promise((r) => server.once('exit', r));
      if (!(await Promise.race([exited.then(() => true), sleep(5000).then(() => false)]))) server.kill('SIGKILL');
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  let broken = false;
  const step = (name, fn) =>
    t.test(name, async (s) => {
      if (broken) return s.skip('an earlier step failed');
      try {
        await fn();
      } catch (e) {
        broken = true;
        throw e;
      }
    });

  let cookie = '';
  const api = async (method, p, body) => {
    const res = await fetch(vibe + p, {
      method,
      // Like the dashboard: cookie requests that change state carry its Origin.
      headers: { cookie, origin: vibe, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body && JSON.stringify(body),
    });
    const text = await res.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {}
    return { status: res.status, json, headers: res.headers, text };
  };

  let demo, fresh, context, dash;
  mkdirSync(SHOTS, { recursive: true });
  const shot = (page, name) => page.screenshot({ path: path.join(SHOTS, `${name}.png`) });

  await step('demo data is generated and vibe serve starts', async () => {
    const gen = spawnSync(VIBE_BIN, ['demo', '--users', '400', '--events', '8000'], { env, encoding: 'utf8' });
    assert.equal(gen.status, 0, `vibe demo failed: ${gen.stdout}\n${gen.stderr}`);
    server = spawn(VIBE_BIN, ['serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const log = (chunk) => serverLog.push(...String(chunk).trimEnd().split('\n'));
    server.stdout.on('data', log);
    server.stderr.on('data', log);
    await poll('GET /readyz -> 200', async () => (await fetch(`${vibe}/readyz`).catch(() => null))?.status === 200, 30_000);
  });

  await step('the dashboard is embedded: index.html with ETag, immutable hashed assets, SPA fallback', async () => {
    const index = await fetch(`${vibe}/`);
    assert.equal(index.status, 200);
    const html = await index.text();
    assert.match(html, /<div id="root"><\/div>/, 'the built dashboard, not the "not built" page');
    const etag = index.headers.get('etag');
    assert.ok(etag, 'index has an ETag');
    assert.equal(index.headers.get('cache-control'), 'no-cache');
    assert.equal((await fetch(`${vibe}/`, { headers: { 'if-none-match': etag } })).status, 304);
    const asset = html.match(/\/assets\/[^"]+\.js/)[0];
    const js = await fetch(vibe + asset);
    assert.equal(js.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    const deep = await fetch(`${vibe}/settings`);
    assert.equal(deep.status, 200);
    assert.equal(deep.headers.get('etag'), etag);
    assert.equal((await fetch(`${vibe}/api/v1/nope`)).status, 404, 'no SPA fallback under /api');
  });

  await step('a fresh project (no events yet) is created through the API', async () => {
    const res = await api('POST', '/api/v1/auth/login', { email: EMAIL, password: PASSWORD });
    cookie = res.headers.getSetCookie().find((c) => c.startsWith('vibe_session=')).split(';')[0];
    const created = await api('POST', '/api/v1/projects', { name: 'Fresh site' });
    assert.equal(created.status, 201, created.text);
    fresh = created.json;
    const list = await api('GET', '/api/v1/projects');
    demo = list.json.projects.find((p) => p.name === 'Demo shop');
    assert.ok(demo, `no Demo shop in ${list.text}`);
  });

  await step('sign in through the login screen', async () => {
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: vibe });
    dash = await context.newPage();
    recordPage(dash, browserLog);
    await dash.goto(vibe + '/');
    await dash.getByRole('heading', { name: 'Sign in' }).waitFor();
    await dash.getByLabel('Email').fill(EMAIL);
    await dash.getByLabel('Password').fill('wrong-password');
    await dash.getByRole('button', { name: 'Sign in' }).click();
    await dash.getByRole('alert').filter({ hasText: 'wrong email or password' }).waitFor();
    await shot(dash, 'login');
    await dash.getByLabel('Password').fill(PASSWORD);
    await dash.getByRole('button', { name: 'Sign in' }).click();
    await dash.getByRole('navigation', { name: 'Main' }).waitFor();
  });

  await step('the overview of the demo project: cards, chart, funnel, people', async () => {
    await dash.getByLabel('Project', { exact: true }).selectOption(demo.id);
    await dash.getByRole('heading', { name: 'Demo shop' }).waitFor();
    const total = dash.getByTestId('metric-total_users');
    await total.locator('.metric-value').waitFor();
    const value = Number((await total.locator('.metric-value').textContent()).replace(/,/g, ''));
    assert.ok(value >= 300, `total users ${value}`);
    await dash.locator('.recharts-surface').first().waitFor();
    await dash.getByTestId('funnel-step').first().waitFor();
    // This branch has no /live socket yet: the table falls back to polling.
    await poll('a connection state', async () => ['live', 'polling'].includes(await dash.getByTestId('connection').getAttribute('data-status')));
    await dash.getByRole('tab', { name: 'All' }).click();
    await dash.getByTestId('person-row').first().waitFor();
    await shot(dash, 'overview');
    await dash.getByRole('tab', { name: 'Online now' }).click();
  });

  const visitorPage = async (project, pathName) => {
    const snippet = (await api('GET', `/api/v1/projects/${project.id}/snippet`)).json.snippet;
    pages.set(pathName, `<!doctype html><html><head><meta charset="utf-8"><title>Landing</title><link rel="icon" href="data:,">${snippet}</head><body><h1>Hello</h1></body></html>`);
    if (!pageServer) {
      pageServer = createServer((req, res) => {
        const html = pages.get(new URL(req.url, 'http://x').pathname);
        if (!html) return res.writeHead(404).end();
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
      });
      await new Promise((r) => pageServer.listen(0, '127.0.0.1', r));
    }
    const visitorContext = await browser.newContext({ userAgent: USER_AGENT });
    const page = await visitorContext.newPage();
    recordPage(page, browserLog);
    await page.goto(`http://127.0.0.1:${pageServer.address().port}${pathName}`);
    return page;
  };

  let visitor;
  await step('a visitor on another origin appears in the table without a reload', async () => {
    await dash.evaluate(() => (window.__noReload = true));
    // The table is fed by the WebSocket live feed, not by polling.
    const connection = dash.getByTestId('connection');
    await poll('the live feed to connect', async () => /Live/.test(await connection.textContent()), 10_000);
    visitor = await visitorPage(demo, '/e2e-landing');
    const row = dash.getByTestId('visitor-row').filter({ hasText: '/e2e-landing' });
    await row.waitFor({ timeout: 15_000 });
    assert.equal(await dash.evaluate(() => window.__noReload), true, 'the dashboard did not reload');
    assert.match(await connection.textContent(), /Live/, 'still on the live feed');
    assert.match(await row.textContent(), /Anonymous/);
    assert.equal(await row.getByLabel('Desktop').count(), 1);
    assert.equal(await row.getByLabel('Chrome').count(), 1);
    // Time on site ticks every second.
    const time = () => row.getByTestId('time-on-site').textContent();
    const first = await time();
    await poll('the time on site to tick', async () => (await time()) !== first, 5000);
  });

  await step('its detail modal shows the session and closes with Escape', async () => {
    await dash.getByTestId('visitor-row').filter({ hasText: '/e2e-landing' }).click();
    const modal = dash.getByRole('dialog');
    await modal.getByTestId('session').first().waitFor();
    assert.match(await modal.getByTestId('session').first().textContent(), /\/e2e-landing/);
    assert.match(await modal.getByTestId('session').first().textContent(), /active/);
    await shot(dash, 'user-modal');
    await dash.keyboard.press('Escape');
    await modal.waitFor({ state: 'detached' });
  });

  await step('closing the visitor page takes it out of the table', async () => {
    await visitor.close({ runBeforeUnload: true });
    await dash.getByTestId('visitor-row').filter({ hasText: '/e2e-landing' }).waitFor({ state: 'detached', timeout: 20_000 });
  });

  await step('the users CSV of the current segment and the metrics CSV download', async () => {
    await dash.getByRole('tab', { name: 'All' }).click();
    const [download] = await Promise.all([dash.waitForEvent('download'), dash.getByTestId('export-users').click()]);
    assert.match(download.suggestedFilename(), /^vibe-users-all-.*\.csv$/);
    const csv = readFileSync(await download.path(), 'utf8');
    const lines = csv.trim().split('\r\n');
    assert.match(lines[0], /email/);
    assert.ok(lines.length > 300, `only ${lines.length} lines`);
    const [metrics] = await Promise.all([dash.waitForEvent('download'), dash.getByTestId('export-metrics').click()]);
    assert.match(metrics.suggestedFilename(), /^vibe-metrics-.*\.csv$/);
    const days = readFileSync(await metrics.path(), 'utf8').trim().split('\r\n');
    assert.match(days[0], /date/);
    assert.equal(days.length, 31, 'a header and the 30 days of the selected range');
  });

  await step('integration: copy the snippet; the first-event light turns green live', async () => {
    await dash.getByLabel('Project', { exact: true }).selectOption(fresh.id);
    await dash.getByRole('link', { name: 'Integration' }).click();
    const light = dash.getByTestId('first-event');
    await light.filter({ hasText: 'Waiting for first event' }).waitFor();
    const shown = await dash.getByTestId('snippet').textContent();
    await dash.getByRole('button', { name: 'Copy snippet' }).click();
    await dash.getByRole('button', { name: '✓ Copied' }).waitFor();
    const copied = await dash.evaluate(() => navigator.clipboard.readText());
    assert.equal(copied, shown);
    assert.match(copied, new RegExp(`data-key="${fresh.write_key}"`));
    await shot(dash, 'integration');
    const page = await visitorPage(fresh, '/first-visit');
    await poll('the light to turn green', async () => (await light.getAttribute('data-seen')) === 'true', 15_000);
    assert.match(await light.textContent(), /Receiving events/);
    await page.close();
  });

  await step('settings: project, funnels, members and tokens', async () => {
    await dash.getByLabel('Project', { exact: true }).selectOption(demo.id);
    await dash.getByRole('link', { name: 'Settings' }).click();
    await dash.getByRole('heading', { name: 'Settings' }).waitFor();
    await dash.getByRole('region', { name: 'Members' }).getByText(EMAIL).waitFor();
    const funnels = dash.getByRole('region', { name: 'Funnels' });
    await funnels.locator('.list-row').first().waitFor();

    // Funnel editor: add three steps, move the last one up, delete one, save.
    await funnels.getByRole('button', { name: '+ New funnel' }).click();
    await dash.getByLabel('Funnel name').fill('Checkout');
    await dash.getByLabel('Step 1 value').fill('/cart');
    await dash.getByLabel('Step 2 value').fill('/typo');
    await dash.getByRole('button', { name: '+ Add step' }).click();
    await dash.getByLabel('Step 3 kind').selectOption('event');
    await dash.getByLabel('Step 3 value').fill('order_paid');
    await dash.getByRole('button', { name: '+ Add step' }).click();
    await dash.getByLabel('Step 4 value').fill('/checkout');
    await dash.getByRole('button', { name: 'Move step 4 up' }).click();
    await dash.getByRole('button', { name: 'Move step 3 up' }).click();
    await dash.getByRole('button', { name: 'Delete step 3' }).click(); // /typo
    await dash.getByRole('button', { name: 'Create funnel' }).click();
    await funnels.getByText('/cart → /checkout → order_paid').waitFor();
    const saved = (await api('GET', `/api/v1/projects/${demo.id}/funnels`)).json.funnels.find((f) => f.name === 'Checkout');
    assert.deepEqual(saved.steps.map((st) => [st.match, st.value]), [['page', '/cart'], ['page', '/checkout'], ['event', 'order_paid']]);

    // Members: add an existing account as viewer, promote it, remove it.
    const made = spawnSync(VIBE_BIN, ['user', 'create', '--email', 'colleague@example.com', '--password', PASSWORD, '--role', 'viewer'], { env, encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    const members = dash.getByRole('region', { name: 'Members' });
    await dash.getByLabel('Member email').fill('colleague@example.com');
    await dash.getByLabel('New member role').selectOption('viewer');
    await members.getByRole('button', { name: 'Add member' }).click();
    await members.getByText('colleague@example.com').waitFor();
    await dash.getByLabel('Role of colleague@example.com').selectOption('admin');
    await poll('the new role to be stored', async () => {
      const list = (await api('GET', `/api/v1/projects/${demo.id}/members`)).json.members;
      return list.find((m) => m.email === 'colleague@example.com')?.role === 'admin';
    });
    dash.once('dialog', (d) => d.accept());
    await members.locator('.list-row').filter({ hasText: 'colleague@example.com' }).getByRole('button', { name: 'Remove' }).click();
    await members.getByText('colleague@example.com').waitFor({ state: 'detached' });

    await dash.getByLabel('Token name').fill('e2e');
    await dash.getByRole('button', { name: 'Create token' }).click();
    assert.match(await dash.getByTestId('token-secret').textContent(), /^vbt_/);
    await shot(dash, 'settings');
  });

  await step('the overview is usable at phone width', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, storageState: await context.storageState() });
    const p = await phone.newPage();
    recordPage(p, browserLog);
    await p.goto(vibe + '/');
    await p.getByTestId('metric-total_users').locator('.metric-value').waitFor();
    await p.locator('.recharts-surface').first().waitFor();
    const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `the page scrolls sideways by ${overflow}px`);
    await shot(p, 'overview-phone');
    await phone.close();
  });

  await step('an expired session returns to the login screen with a message', async () => {
    await dash.getByRole('link', { name: 'Overview' }).click();
    const session = (await context.cookies(vibe)).find((c) => c.name === 'vibe_session');
    // Ending the session server-side is what expiry looks like to the browser.
    await fetch(`${vibe}/api/v1/auth/logout`, { method: 'POST', headers: { cookie: `vibe_session=${session.value}`, origin: vibe } });
    await dash.getByText('Your session has expired').waitFor({ timeout: 15_000 });
    await dash.getByRole('heading', { name: 'Sign in' }).waitFor();
  });

  await step('sign out', async () => {
    await dash.getByLabel('Email').fill(EMAIL);
    await dash.getByLabel('Password').fill(PASSWORD);
    await dash.getByRole('button', { name: 'Sign in' }).click();
    await dash.getByRole('button', { name: 'Sign out' }).click();
    await dash.getByText('You have signed out').waitFor();
  });
});
