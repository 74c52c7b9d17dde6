// First run in the dashboard: `vibe serve` without an admin prints a one-time
// setup link; opening it in Chromium creates the owner and lands in the
// dashboard; the link then refuses a second owner.
//
//   make web && cargo build --bin vibe && cd e2e && VIBE_BIN=../target/debug/vibe node --test setup.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, launchChromium, poll, recordPage } from './helpers.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const VIBE_BIN = process.env.VIBE_BIN ? path.resolve(process.env.VIBE_BIN) : path.join(ROOT, 'target/debug/vibe');

test('the setup link creates the owner in the dashboard', { timeout: 90_000 }, async (t) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'vibe-setup-'));
  const port = await freePort();
  const vibe = `http://127.0.0.1:${port}`;
  const log = [];
  const env = { ...process.env, VIBE_ADDR: `127.0.0.1:${port}`, VIBE_DATA_DIR: dataDir, VIBE_PUBLIC_URL: vibe };
  delete env.VIBE_ADMIN_EMAIL;
  delete env.VIBE_ADMIN_PASSWORD;
  const server = spawn(VIBE_BIN, ['serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  server.stdout.on('data', (c) => log.push(String(c)));
  server.stderr.on('data', (c) => log.push(String(c)));
  let browser;
  t.after(async () => {
    await browser?.close().catch(() => {});
    if (server.exitCode === null) {
      server.kill('SIGTERM');
      await Promise.race([new Promise((r) => server.once('exit', r)), sleep(5000)]);
    }
    rmSync(dataDir, { recursive: true, force: true });
  });
  const diagnostics = () => `\n--- vibe serve ---\n${log.join('').slice(-3000)}`;
  const link = await poll('the setup link on stdout', () => log.join('').match(/https?:\/\/\S+\/setup\?token=\S+/)?.[0], { ms: 30_000, diagnostics });
  const setupUrl = `${vibe}/setup?token=${new URL(link).searchParams.get('token')}`;

  browser = await launchChromium();
  const page = await browser.newPage();
  const browserLog = [];
  recordPage(page, browserLog);
  await page.goto(setupUrl);
  await page.getByRole('heading', { name: 'Welcome to Vibe' }).waitFor();
  await page.getByLabel('Email').fill('owner@example.com');
  await page.getByLabel(/Password/).fill('correct-horse-battery');
  await page.getByRole('button', { name: 'Create owner and sign in' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/');
  assert.match(await page.locator('header').textContent(), /owner@example\.com/);

  // The link is spent.
  await page.goto(setupUrl);
  await page.getByLabel('Email').fill('second@example.com');
  await page.getByLabel(/Password/).fill('correct-horse-battery');
  await page.getByRole('button', { name: 'Create owner and sign in' }).click();
  await page.getByText('Vibe is already set up').waitFor();
});
