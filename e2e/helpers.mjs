// Shared by the e2e tests: Chromium launch, polling, free ports.
import assert from 'node:assert/strict';
import net from 'node:net';
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
