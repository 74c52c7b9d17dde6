// Browser end-to-end test of the revenue, retention and features & AI screens
// against the real `vibe` binary. The data is sent the way a customer's server
// would: reserved `payment`, `subscription` and `ai_usage` events and custom
// events through `POST /api/v1/track` with a project secret key, dated in the
// past. A flow is created in the Features & AI screen and its stats checked.
// Writes docs/screenshots/revenue.png, retention.png and features.png.
//
//   make web && cargo build --bin vibe && bash scripts/ensure-chromium.sh
//   cd e2e && npm ci && VIBE_BIN=../target/debug/vibe node --test crm.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DAY, SHOTS, launchChromium, recordPage, startVibeProject, testLogs } from './helpers.mjs';

const { serverLog, browserLog, tail, diagnostics, poll } = testLogs();

test('revenue, retention and features & AI in Chromium', { timeout: 180_000 }, async (t) => {
  let browser;
  t.after(() => browser?.close().catch(() => {}));
  const { vibe, api, cookie, project, secret } = await startVibeProject(t, { name: 'Paid app', prefix: 'vibe-crm-', serverLog, poll });

  // Four people, all first seen at noon UTC 20 days ago (a past ISO week, so
  // its day 1 and day 7 are reached): u1 and u2 come back on day 1, u1 also on
  // day 7. Three payments ($49 + $49 + $19), one active $49/month subscription,
  // a feature used 3 times by 2 people, and AI calls on two models.
  const today = new Date();
  const base = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate()) - 20 * DAY + 12 * 3_600_000;
  const msg = (user_id, ts, name, props) => ({ type: 'event', id: randomUUID(), user_id, ts, name, props });
  const batch = [
    ...['u1', 'u2', 'u3', 'u4'].map((u) => ({ type: 'identify', id: randomUUID(), user_id: u, ts: base, traits: { email: `${u}@example.com` } })),
    msg('u1', base + 60_000, 'payment', { payment_id: 'pay_1', amount: 4900, currency: 'USD', plan: 'pro' }),
    msg('u2', base + 60_000, 'payment', { payment_id: 'pay_2', amount: 4900, currency: 'USD', plan: 'pro' }),
    msg('u3', base + 60_000, 'payment', { payment_id: 'pay_3', amount: 1900, currency: 'USD', plan: 'basic' }),
    msg('u1', base + 60_000, 'subscription', { subscription_id: 'sub_1', plan: 'pro', status: 'active', amount: 4900, currency: 'USD', interval: 'month' }),
    msg('u1', base + 120_000, 'export_pdf', {}),
    msg('u1', base + 180_000, 'export_pdf', {}),
    msg('u2', base + 120_000, 'export_pdf', {}),
    msg('u1', base + 120_000, 'ai_usage', { model: 'gpt-4o', prompt_tokens: 1000, completion_tokens: 500, cost_usd: 0.015 }),
    msg('u2', base + 120_000, 'ai_usage', { model: 'claude-3-haiku', prompt_tokens: 200, completion_tokens: 100, cost_usd: 0.001 }),
    msg('u1', base + DAY, 'opened_app', {}),
    msg('u2', base + DAY, 'opened_app', {}),
    msg('u1', base + 7 * DAY, 'opened_app', {}),
    // A flow's attempts: u1 and u3 complete (after 60 s and 120 s), u2 fails,
    // u4 never finishes (abandoned).
    ...['u1', 'u2', 'u3', 'u4'].map((u) => msg(u, base + 200_000, 'vision_started', {})),
    msg('u1', base + 260_000, 'vision_generated', {}),
    msg('u2', base + 230_000, 'vision_failed', {}),
    msg('u3', base + 320_000, 'vision_generated', {}),
  ];
  const tracked = await api('POST', '/api/v1/track', { batch }, { authorization: `Bearer ${secret}`, cookie: '' });
  assert.equal(tracked.status, 202, tracked.text);
  assert.equal(tracked.json.accepted, batch.length, tracked.text);

  browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const [name, value] = cookie.split('=');
  await context.addCookies([{ name, value, url: vibe }]);
  const page = await context.newPage();
  recordPage(page, browserLog);
  mkdirSync(SHOTS, { recursive: true });
  const shot = (n) => page.screenshot({ path: path.join(SHOTS, `${n}.png`), fullPage: true });
  const text = async (testId) => (await page.getByTestId(testId).textContent()) ?? '';

  await t.test('the revenue page shows the totals, MRR, plans and churn', async () => {
    await page.goto(vibe + '/');
    // `vibe serve` made a default project too: pick ours.
    await page.getByLabel('Project', { exact: true }).selectOption(project.id);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Revenue' }).click();
    await page.getByRole('heading', { name: 'Revenue', level: 1 }).waitFor();
    await page
      .getByTestId('stat-total')
      .locator('.metric-value')
      .waitFor({ timeout: 15_000 })
      .catch(async (e) => {
        throw new Error(`${e.message}\n--- page ---\n${await page.locator('main').textContent()}${diagnostics()}`);
      });
    assert.match(await text('stat-total'), /\$117\.00/);
    assert.match(await text('stat-mrr'), /\$49\.00/);
    assert.match(await text('stat-paying'), /3/);
    const plans = await text('by-plan');
    assert.match(plans, /pro\s*\$98\.00/);
    assert.match(plans, /basic\s*\$19\.00/);
    await page.getByTestId('churn').waitFor();
    await shot('revenue');
  });

  await t.test('the retention page shows the cohort heatmap and day 1/7/30', async () => {
    await page.getByRole('link', { name: 'Retention' }).click();
    await page.getByTestId('heatmap').waitFor();
    assert.match(await text('stat-day1'), /50\.0%/);
    assert.match(await text('stat-day7'), /25\.0%/);
    assert.match(await text('stat-day30'), /–/);
    const row = page.locator('[data-testid^="cohort-"]').filter({ hasText: '50.0%' });
    assert.equal(await row.count(), 1, 'one weekly cohort with the four people');
    assert.match(await row.textContent(), /4\s*50\.0%\s*25\.0%\s*–/);
    await page.getByRole('button', { name: 'Daily cohorts' }).click();
    await page.getByRole('columnheader', { name: 'Day', exact: true }).waitFor();
    const day = new Date(base).toISOString().slice(0, 10);
    await page.getByTestId(`cohort-${day}`).waitFor();
    assert.match(await text(`cohort-${day}`), /50\.0%\s*25\.0%\s*–/);
    await page.getByRole('button', { name: 'Weekly cohorts' }).click();
    await page.getByRole('columnheader', { name: 'Week of' }).waitFor();
    await shot('retention');
  });

  await t.test('the features & AI page shows features with sparklines and token usage', async () => {
    await page.getByRole('link', { name: 'Features & AI' }).click();
    const row = page.getByTestId('feature-export_pdf');
    await row.waitFor();
    assert.match(await row.textContent(), /export_pdf\s*3\s*2/);
    assert.equal(await row.locator('svg.sparkline polyline').count(), 1);
    await page.getByTestId('feature-opened_app').waitFor();
    await page.getByTestId('stat-ai-tokens').waitFor();
    assert.match(await text('stat-ai-calls'), /2/);
    assert.match(await text('stat-ai-tokens'), /1,800/);
    assert.match(await text('stat-ai-cost'), /\$0\.016/);
    const models = await text('by-model');
    assert.match(models, /gpt-4o\s*1\s*1,500/);
    assert.match(models, /claude-3-haiku\s*1\s*300/);
    assert.match(await text('by-user'), /u1@example\.com/);
  });

  await t.test('a flow made on the features & AI page shows its attempts', async () => {
    const flows = page.getByRole('region', { name: 'Flows' });
    await flows.getByText('No flows yet').waitFor();
    await flows.getByRole('button', { name: 'New flow' }).click();
    const form = page.getByRole('form', { name: 'New flow' });
    await form.getByLabel('Name').fill('Vision generation');
    await form.getByLabel('Start match').selectOption('event');
    await form.getByLabel('Start value').fill('vision_started');
    await form.getByLabel('Complete match').selectOption('event');
    await form.getByLabel('Complete value').fill('vision_generated');
    await form.getByLabel('A step that marks the attempt as failed').check();
    await form.getByLabel('Fail match').selectOption('event');
    await form.getByLabel('Fail value').fill('vision_failed');
    await form.getByRole('button', { name: 'Create flow' }).click();
    const row = page.getByTestId('flows-table').locator('tbody tr').filter({ hasText: 'Vision generation' });
    await row.getByTestId('flow-started').waitFor();
    assert.equal(await row.getByTestId('flow-started').textContent(), '4');
    assert.equal(await row.getByTestId('flow-completed').textContent(), '2');
    assert.equal(await row.getByTestId('flow-failed').textContent(), '1');
    assert.equal(await row.getByTestId('flow-completion').textContent(), '50.0%');
    assert.equal(await row.getByTestId('flow-success').textContent(), '66.7%');
    assert.equal(await row.getByTestId('flow-avg').textContent(), '1m 30s');
    // The median comes from a duration histogram (docs/metrics.md): the lower
    // middle of 60 s and 120 s, within 5 % of 60 s.
    const median = await row.getByTestId('flow-median').textContent();
    assert.match(median, /^(5[7-9]s|1m 0[0-3]s)$/, median);
    await shot('features');
  });
  assert.ok(!browserLog.some((l) => l.startsWith('page error')), `no page errors:\n${tail(browserLog)}`);
});
