// Browser end-to-end test of the Campaigns dashboard against the real `vibe`
// binary and a real SMTP server (aiosmtpd, the API tests' sink script): six
// contacts, four of them on the pro plan (a custom segment); an email
// channel pointing at the sink; in Chromium a template is written, a
// campaign to the segment is drafted in the wizard (its live count says 4),
// test-sent, sent, paused and resumed; the campaign page's progress bar
// reaches 4 of 4 sent while polling, and the recipients table lists the four addresses — which
// the sink received, one message each. Writes docs/screenshots/campaigns.png
// (the list), campaign-wizard.png and campaign-progress.png.
//
//   make web && cargo build --bin vibe && bash scripts/ensure-chromium.sh
//   bash scripts/ensure-python-venv.sh   # aiosmtpd in .venv
//   cd e2e && npm ci && VIBE_BIN=../target/debug/vibe node --test campaigns.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SHOTS, launchChromium, recordPage, startVibeProject, testLogs } from './helpers.mjs';

const { serverLog, browserLog, tail, poll } = testLogs();
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// The API tests' SMTP sink: prints its port, writes each message to OUTDIR/NNNN.eml + .json.
async function startSmtpSink(t) {
  const python = path.join(ROOT, '.venv/bin/python');
  assert.ok(existsSync(python), 'aiosmtpd needs the project venv: bash scripts/ensure-python-venv.sh');
  const outdir = mkdtempSync(path.join(tmpdir(), 'vibe-campaigns-smtp-'));
  const sink = spawn(python, [path.join(ROOT, 'crates/vibe-server/tests/api/python/smtp_sink.py'), outdir], { stdio: ['ignore', 'pipe', 'pipe'] });
  const errors = [];
  sink.stderr.on('data', (c) => errors.push(String(c)));
  t.after(() => {
    if (sink.exitCode === null) sink.kill('SIGKILL');
    rmSync(outdir, { recursive: true, force: true });
  });
  const port = await new Promise((resolve, reject) => {
    let out = '';
    sink.stdout.on('data', (c) => {
      out += c;
      const line = out.split('\n');
      if (line.length > 1) resolve(Number(line[0]));
    });
    sink.once('exit', (code) => reject(new Error(`smtp sink exited ${code}: ${errors.join('')}`)));
  });
  const received = () =>
    readdirSync(outdir)
      .filter((f) => f.endsWith('.eml'))
      .map((f) => ({ ...JSON.parse(readFileSync(path.join(outdir, f.replace('.eml', '.json')), 'utf8')), eml: readFileSync(path.join(outdir, f), 'utf8') }));
  return { port, received };
}

test('campaigns: wizard with a live count, test send, send to a segment, live progress to sent = total, recipients, in Chromium', { timeout: 240_000 }, async (t) => {
  let browser;
  t.after(() => browser?.close().catch(() => {}));
  const sink = await startSmtpSink(t);
  const { vibe, api, cookie, project, secret } = await startVibeProject(t, { name: 'Campaign shop', prefix: 'vibe-campaigns-', serverLog, poll });
  const pid = project.id;

  const people = ['ada', 'grace', 'linus', 'barbara', 'ken', 'dennis'].map((u, i) => ({ u, plan: i < 4 ? 'pro' : 'free' }));
  const r = await api('POST', '/api/v1/track', {
    batch: people.map(({ u, plan }) => ({ type: 'identify', id: randomUUID(), user_id: u, ts: Date.now() - 60_000, traits: { name: u[0].toUpperCase() + u.slice(1), email: `${u}@example.com`, plan } })),
  }, { authorization: `Bearer ${secret}`, cookie: '' });
  assert.equal(r.status, 202, r.text);
  await poll('six people stored', async () => (await api('GET', `/api/v1/projects/${pid}/users?limit=50`)).json?.users?.length === 6);
  const seg = await api('POST', `/api/v1/projects/${pid}/segments`, { name: 'Pro customers', criteria: { field: 'plan', op: 'eq', value: 'pro' } });
  assert.equal(seg.status, 201, seg.text);
  const channel = await api('PUT', `/api/v1/projects/${pid}/channels/email`, {
    smtp_host: '127.0.0.1', smtp_port: sink.port, tls: 'none', from_address: 'news@shop.example', from_name: 'Campaign Shop',
  });
  assert.equal(channel.status, 200, channel.text);

  browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  const [name, value] = cookie.split('=');
  await context.addCookies([{ name, value, url: vibe }]);
  const page = await context.newPage();
  recordPage(page, browserLog);
  mkdirSync(SHOTS, { recursive: true });

  // A template first.
  await page.goto(vibe + '/templates');
  await page.getByLabel('Project', { exact: true }).selectOption(pid);
  await page.getByRole('button', { name: 'New template' }).click();
  await page.getByLabel('Name', { exact: true }).fill('Spring news');
  await page.getByLabel('Subject', { exact: true }).fill('Spring news for {{ contact.name }}');
  await page.getByLabel('HTML body', { exact: true }).fill('<p>Hi {{ contact.name }}, spring is here.</p>\n<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>');
  await page.getByRole('button', { name: 'Create template' }).click();
  await page.locator('[data-testid^="template-"]').filter({ hasText: 'Spring news' }).waitFor();

  // The empty list, then the wizard.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Campaigns' }).click();
  await page.getByRole('heading', { name: 'Campaigns', level: 1 }).waitFor();
  await page.getByText('No campaigns yet').waitFor();
  await page.getByRole('button', { name: 'New campaign' }).click();
  await page.getByRole('button', { name: 'Create draft' }).click();
  assert.equal(await page.getByTestId('error-name').textContent(), 'Give the campaign a name.');
  await page.getByLabel('Name', { exact: true }).fill('Spring to pros');
  assert.equal(await page.getByTestId('error-name').count(), 0, 'typing the name takes its error away');
  await page.getByLabel('Template', { exact: true }).selectOption({ label: 'Spring news — Spring news for {{ contact.name }}' });
  await poll('the live count of all people', async () => /6 people in this segment now/.test(await page.getByTestId('recipient-count').textContent()));
  await page.getByLabel('Segment', { exact: true }).selectOption({ label: 'Pro customers' });
  await poll('the live count of the segment', async () => /4 people in this segment now/.test(await page.getByTestId('recipient-count').textContent()));
  await page.getByLabel('Throttle (messages per minute)').fill('30');
  await page.screenshot({ path: path.join(SHOTS, 'campaign-wizard.png'), fullPage: true });
  await page.getByRole('button', { name: 'Create draft' }).click();
  await page.waitForURL(/\/campaigns\/[^/]+$/);
  await page.getByRole('heading', { name: /Spring to pros/ }).waitFor();
  assert.equal(await page.getByTestId('campaign-status').textContent(), 'Draft');
  const cid = decodeURIComponent(new URL(page.url()).pathname.split('/').pop());

  // A test send reaches the sink and records nobody.
  await page.getByLabel(/Send a test to/).fill('me@example.com');
  await page.getByRole('button', { name: 'Send test' }).click();
  await poll('test result', async () => /me@example\.com: sent/.test((await page.getByTestId('test-results').textContent().catch(() => '')) ?? ''));
  await poll('the test at the sink', async () => sink.received().some((m) => m.rcpt_tos.includes('me@example.com')));

  // Send, pause mid-way (30/min: one every 2 s), resume: the actions follow
  // the state and the progress bar follows the sender to 4 of 4.
  const actions = page.getByRole('group', { name: 'Campaign actions' });
  await actions.getByRole('button', { name: 'Send', exact: true }).click();
  await actions.getByRole('button', { name: 'Confirm send' }).click();
  await poll('sending', async () => (await page.getByTestId('campaign-status').textContent()) === 'Sending');
  await page.getByRole('progressbar', { name: 'Sent' }).waitFor();
  await actions.getByRole('button', { name: 'Pause' }).click();
  await poll('paused', async () => (await page.getByTestId('campaign-status').textContent()) === 'Paused');
  assert.equal(await actions.getByRole('button', { name: 'Pause' }).count(), 0);
  assert.equal(await actions.getByRole('button', { name: 'Send', exact: true }).count(), 0);
  await page.getByTestId('progress-eta').waitFor();
  const paused = (await api('GET', `/api/v1/projects/${pid}/campaigns/${cid}`)).json.progress;
  assert.ok(paused.sent < 4 && paused.queued > 0, `paused before the end: ${JSON.stringify(paused)}`);
  await actions.getByRole('button', { name: 'Resume' }).click();
  await poll('sending again', async () => ['Sending', 'Sent'].includes(await page.getByTestId('campaign-status').textContent()));
  const seen = new Set();
  await poll('4 of 4 sent', async () => {
    const text = await page.getByTestId('progress-sent').textContent();
    seen.add(text);
    return text === '4 of 4 sent';
  }, 60_000);
  await poll('status Sent', async () => (await page.getByTestId('campaign-status').textContent()) === 'Sent');
  assert.ok(seen.size >= 2, `the bar moved while sending: ${[...seen].join(', ')}`);
  assert.equal(await page.getByRole('progressbar', { name: 'Sent' }).getAttribute('aria-valuenow'), '4');
  assert.equal(await page.getByTestId('count-skipped-no_address').locator('dd').textContent(), '0');
  assert.equal(await page.getByTestId('count-failed').locator('dd').textContent(), '0');

  // The recipients table: the four pros, sent.
  const table = page.getByTestId('recipients-table');
  await poll('four sent rows', async () => (await table.locator('tbody tr').filter({ hasText: 'sent' }).count()) === 4);
  const addresses = (await table.locator('tbody tr td:nth-child(2)').allTextContents()).sort();
  assert.deepEqual(addresses, ['ada@example.com', 'barbara@example.com', 'grace@example.com', 'linus@example.com']);
  // What they did with it (…/stats): all four sent, none opened yet.
  const stats = page.getByTestId('campaign-stats');
  const statCell = (label) => stats.locator('.count-cell').filter({ has: page.getByText(label, { exact: true }) }).locator('dd');
  await poll('stats count the four', async () => (await statCell('Sent').textContent()) === '4');
  assert.equal(await statCell('Opened').textContent(), '0 0.0%');
  await page.getByLabel('Recipient status').selectOption('failed');
  await page.getByText('No recipients with this status').waitFor();
  await page.getByLabel('Recipient status').selectOption('');
  await table.locator('tbody tr').nth(3).waitFor();
  await page.screenshot({ path: path.join(SHOTS, 'campaign-progress.png'), fullPage: true });

  // On a phone the page fits its width (the recipients table scrolls in its card).
  await page.setViewportSize({ width: 390, height: 844 });
  await poll('no sideways scroll on a phone', async () => (await page.evaluate(() => document.documentElement.scrollWidth)) <= 390);
  await page.setViewportSize({ width: 1280, height: 1000 });

  // Exactly one message per recipient at the sink, rendered for them.
  const got = sink.received().filter((m) => !m.rcpt_tos.includes('me@example.com'));
  assert.deepEqual(got.flatMap((m) => m.rcpt_tos).sort(), addresses);
  assert.ok(got.some((m) => /Spring news for Ada/.test(m.eml)), 'rendered subject');
  const api1 = await api('GET', `/api/v1/projects/${pid}/campaigns/${cid}`);
  assert.equal(api1.json.progress.sent, 4, api1.text);

  // A recipient opens their contact page; the nav brings the list back: status and sent of to-send.
  await table.getByRole('link', { name: 'uid:ada' }).click();
  await page.waitForURL(/\/people\/uid(%3A|:)ada$/);
  await page.getByRole('heading', { name: /ada/i, level: 1 }).waitFor();
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Campaigns' }).click();
  const row = page.getByTestId(`campaign-${cid}`);
  await row.getByTestId('row-progress').waitFor();
  assert.equal(await row.getByTestId('row-progress').textContent(), '4 / 4');
  assert.equal(await row.getByTestId('campaign-status').textContent(), 'Sent');
  await page.screenshot({ path: path.join(SHOTS, 'campaigns.png'), fullPage: true });
  assert.ok(!browserLog.some((l) => l.startsWith('page error')), `no page errors:\n${tail(browserLog)}`);
});
