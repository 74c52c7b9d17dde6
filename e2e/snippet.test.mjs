// Browser end-to-end test of the tracking snippet: a real `vibe serve`, a page on
// another origin that embeds the snippet the server generates, and Debian's
// Chromium driven by playwright-core. Checks what the dashboard API then reports.
//
//   bash scripts/ensure-chromium.sh
//   cargo build --bin vibe
//   cd e2e && npm ci && VIBE_BIN=../target/debug/vibe node --test
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { USER_AGENT, freePort, launchChromium, poll as pollFor, recordPage } from './helpers.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const VIBE_BIN = process.env.VIBE_BIN
  ? path.resolve(process.env.VIBE_BIN)
  : path.join(ROOT, 'target/debug/vibe');
const PAGE_PATH = '/test.html';

// Diagnostics shown when a step fails.
let lastResponse = '(no API call yet)';
const serverLog = [];
const browserLog = [];
const tail = (lines, n = 30) => lines.slice(-n).join('\n') || '(empty)';
const diagnostics = () =>
  `\nlast API response: ${lastResponse}\n` +
  `--- browser (last lines) ---\n${tail(browserLog)}\n` +
  `--- vibe serve (last lines) ---\n${tail(serverLog)}`;

const poll = (what, fn, ms) => pollFor(what, fn, { ms, diagnostics });

test('vibe.js in Chromium reaches the dashboard API', { timeout: 60_000 }, async (t) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'vibe-e2e-'));
  const port = await freePort();
  const vibe = `http://127.0.0.1:${port}`;
  let server, pageServer, browser;
  let cookie = '';

  const api = async (method, p, body) => {
    // Like the dashboard: cookie requests that change state carry its Origin.
    const headers = { cookie, origin: vibe };
    if (body) headers['content-type'] = 'application/json';
    const res = await fetch(vibe + p, {
      method,
      headers,
      body: body && JSON.stringify(body),
    });
    const text = await res.text();
    lastResponse = `${method} ${p} -> ${res.status} ${text.slice(0, 2000)}`;
    let json;
    try {
      json = JSON.parse(text);
    } catch {}
    return { status: res.status, headers: res.headers, json };
  };

  t.after(async () => {
    await browser?.close().catch(() => {});
    pageServer?.close();
    if (server && server.exitCode === null) {
      server.kill('SIGTERM');
      const exited = new Promise((r) => server.once('exit', r));
      if (!(await Promise.race([exited.then(() => true), sleep(5000).then(() => false)]))) {
        server.kill('SIGKILL');
      }
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  // Sequential steps; after a failure the rest are skipped, not piled on.
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

  let project, snippet, pageUrl, page, visitor;

  await step('vibe serve starts and /readyz answers 200', async () => {
    server = spawn(VIBE_BIN, ['serve'], {
      env: {
        ...process.env,
        VIBE_ADDR: `127.0.0.1:${port}`,
        VIBE_DATA_DIR: dataDir,
        VIBE_ADMIN_EMAIL: 'admin@example.com',
        VIBE_ADMIN_PASSWORD: 'correct-horse-battery',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const log = (chunk) => serverLog.push(...String(chunk).trimEnd().split('\n'));
    server.stdout.on('data', log);
    server.stderr.on('data', log);
    let spawnError;
    server.on('error', (e) => (spawnError = e));
    const outcome = await poll(
      `GET ${vibe}/readyz -> 200`,
      async () => {
        if (spawnError) return { error: `cannot start ${VIBE_BIN}: ${spawnError.message}` };
        if (server.exitCode !== null) return { error: `vibe serve exited with ${server.exitCode}` };
        const res = await fetch(`${vibe}/readyz`).catch(() => null);
        return res?.status === 200 && {};
      },
      30_000
    );
    assert.ok(!outcome.error, `${outcome.error}${diagnostics()}`);
  });

  await step('admin logs in and finds the default project', async () => {
    const res = await api('POST', '/api/v1/auth/login', {
      email: 'admin@example.com',
      password: 'correct-horse-battery',
    });
    assert.equal(res.status, 200, `login failed${diagnostics()}`);
    const session = res.headers.getSetCookie().find((c) => c.startsWith('vibe_session='));
    assert.ok(session, `no vibe_session cookie in ${res.headers.getSetCookie()}${diagnostics()}`);
    cookie = session.split(';')[0];

    const list = await api('GET', '/api/v1/projects');
    project = list.json?.projects?.[0];
    assert.ok(project?.id && project.write_key, `no project${diagnostics()}`);
  });

  await step('the snippet loads vibe.js from the server with the write key', async () => {
    const res = await api('GET', `/api/v1/projects/${project.id}/snippet`);
    snippet = res.json?.snippet;
    assert.equal(typeof snippet, 'string', `no snippet${diagnostics()}`);
    assert.ok(snippet.includes(`src="${vibe}/vibe.js"`), `snippet: ${snippet}`);
    assert.ok(snippet.includes(`data-key="${project.write_key}"`), `snippet: ${snippet}`);
  });

  await step('a page on another origin with the snippet shows up as online', async () => {
    // The inline call runs before the deferred vibe.js: the stub queues it.
    const html = `<!doctype html>
<html><head><meta charset="utf-8"><title>Vibe e2e</title><link rel="icon" href="data:,">
${snippet}
<script>vibeTrack("early_call")</script>
</head><body>
<button id="signup" onclick='vibeTrack("signup_click", {"plan":"pro"})'>Sign up</button>
</body></html>`;
    pageServer = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
    });
    await new Promise((r) => pageServer.listen(0, '127.0.0.1', r));
    pageUrl = `http://127.0.0.1:${pageServer.address().port}${PAGE_PATH}`;

    browser = await launchChromium();
    const context = await browser.newContext({ userAgent: USER_AGENT });
    page = await context.newPage();
    recordPage(page, browserLog);
    page.on('response', (r) => {
      if (r.url().startsWith(vibe)) browserLog.push(`${r.request().method()} ${r.url()} -> ${r.status()}`);
    });
    await page.goto(pageUrl);

    visitor = await poll(`a visitor on ${PAGE_PATH} in /online`, async () => {
      const res = await api('GET', `/api/v1/projects/${project.id}/online`);
      return res.json?.visitors?.find((v) => v.current_page?.path === PAGE_PATH);
    });
    assert.equal(visitor.device, 'desktop', `device${diagnostics()}`);
    assert.equal(visitor.browser, 'Chrome', `browser${diagnostics()}`);
  });

  await step('custom events arrive, including the one queued before load', async () => {
    await page.click('#signup');
    await poll('events signup_click {"plan":"pro"} and early_call', async () => {
      const res = await api('GET', `/api/v1/projects/${project.id}/events?limit=50`);
      const events = (res.json?.events ?? []).filter((e) => e.kind === 'event');
      return (
        events.some((e) => e.name === 'signup_click' && isDeepStrictEqual(e.props, { plan: 'pro' })) &&
        events.some((e) => e.name === 'early_call')
      );
    });
  });

  await step('an SPA navigation moves the visitor to the new page', async () => {
    await page.evaluate(() => history.pushState({}, '', '/spa-page'));
    await poll('the visitor on /spa-page in /online', async () => {
      const res = await api('GET', `/api/v1/projects/${project.id}/online`);
      return res.json?.visitors?.some(
        (v) => v.session_id === visitor.session_id && v.current_page?.path === '/spa-page'
      );
    });
  });

  await step('closing the page (pagehide beacon) takes the visitor offline', async () => {
    await page.close({ runBeforeUnload: true });
    await poll('the visitor to leave /online', async () => {
      const res = await api('GET', `/api/v1/projects/${project.id}/online`);
      const visitors = res.json?.visitors;
      return Array.isArray(visitors) && !visitors.some((v) => v.session_id === visitor.session_id);
    });
  });
});
