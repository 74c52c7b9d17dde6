// Shared by the e2e tests: Chromium launch, polling, free ports.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium } from 'playwright-core';

// A normal desktop Chrome: the server ignores bot and headless user agents.
export const USER_AGENT =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) ' +
  'Chrome/124.0.0.0 Safari/537.36';

// Debian's Chromium (scripts/ensure-chromium.sh installs it).
export function launchChromium() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// Calls fn every 100 ms until it returns something truthy, and returns that;
// fails after `ms` with `what`, fn's last error and diagnostics().
export async function poll(what, fn, { ms = 10_000, diagnostics = () => '' } = {}) {
  const deadline = Date.now() + ms;
  for (;;) {
    let err;
    try {
      const value = await fn();
      if (value) return value;
    } catch (e) {
      err = e;
    }
    if (Date.now() > deadline) {
      const cause = err ? `\nlast error: ${err.stack || err}` : '';
      assert.fail(`timed out after ${ms} ms waiting for ${what}${cause}${diagnostics()}`);
    }
    await sleep(100);
  }
}

// Records a page's console, errors and failed requests into `log`.
export function recordPage(page, log) {
  page.on('console', (m) => log.push(`console.${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => log.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) =>
    log.push(`request failed: ${r.method()} ${r.url()} ${r.failure()?.errorText}`)
  );
}

// Starts `vibe serve` (VIBE_BIN, or the debug build) on a free port with a
// fresh data directory and the admin account, signs in, creates a project
// `name` in UTC (so days are predictable) and mints a secret key. The server
// is stopped and its directory removed after the test `t`; its output goes
// to `serverLog`. `api(method, path, body, headers)` sends the session cookie
// (override it with `cookie: ''`) and the dashboard's origin.
export async function startVibeProject(t, { name, prefix, serverLog, poll: pollServer }) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const bin = process.env.VIBE_BIN ? path.resolve(process.env.VIBE_BIN) : path.join(root, 'target/debug/vibe');
  const email = 'admin@example.com';
  const password = 'correct-horse-battery';
  const dataDir = mkdtempSync(path.join(tmpdir(), prefix));
  const port = await freePort();
  const vibe = `http://127.0.0.1:${port}`;
  const env = { ...process.env, VIBE_ADDR: `127.0.0.1:${port}`, VIBE_DATA_DIR: dataDir, VIBE_ADMIN_EMAIL: email, VIBE_ADMIN_PASSWORD: password };
  const server = spawn(bin, ['serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = (chunk) => serverLog.push(...String(chunk).trimEnd().split('\n'));
  server.stdout.on('data', log);
  server.stderr.on('data', log);
  t.after(async () => {
    if (server.exitCode === null) {
      server.kill('SIGTERM');
      const exited = new Promise((r) => server.once('exit', r));
      if (!(await Promise.race([exited.then(() => true), sleep(5000).then(() => false)]))) server.kill('SIGKILL');
    }
    rmSync(dataDir, { recursive: true, force: true });
  });
  await pollServer('GET /readyz -> 200', async () => (await fetch(`${vibe}/readyz`).catch(() => null))?.status === 200, 30_000);

  let cookie = '';
  const api = async (method, p, body, headers = {}) => {
    const res = await fetch(vibe + p, {
      method,
      headers: { cookie, origin: vibe, ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body && JSON.stringify(body),
    });
    const text = await res.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {}
    return { status: res.status, json, headers: res.headers, text };
  };
  const login = await api('POST', '/api/v1/auth/login', { email, password });
  assert.equal(login.status, 200, login.text);
  cookie = login.headers.getSetCookie().find((c) => c.startsWith('vibe_session=')).split(';')[0];
  const created = await api('POST', '/api/v1/projects', { name });
  assert.equal(created.status, 201, created.text);
  const project = created.json;
  assert.equal((await api('PATCH', `/api/v1/projects/${project.id}`, { timezone: 'UTC' })).status, 200);
  const key = await api('POST', `/api/v1/projects/${project.id}/keys`, { name: 'e2e backend' });
  assert.equal(key.status, 201, key.text);
  const secret = key.json.secret;
  assert.match(secret, /^sk_/);
  // `bin` and `env` run CLI commands on the same data (e.g. `vibe user create`).
  return { vibe, api, cookie, project, secret, bin, env };
}

// Where the browser tests write the README's screenshots.
export const SHOTS = path.join(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..'), 'docs/screenshots');
export const DAY = 86_400_000;

// The server's and the browser's log lines of one test, and a `poll` that
// appends their tails to its failure message.
export function testLogs() {
  const serverLog = [];
  const browserLog = [];
  const tail = (lines, n = 40) => lines.slice(-n).join('\n') || '(empty)';
  const diagnostics = () => `\n--- browser ---\n${tail(browserLog)}\n--- vibe serve ---\n${tail(serverLog)}`;
  const pollWithLogs = (what, fn, ms = 15_000) => poll(what, fn, { ms, diagnostics });
  return { serverLog, browserLog, tail, diagnostics, poll: pollWithLogs };
}
