// Browser end-to-end test of the People and Contact pages against the real
// `vibe` binary: people, payments and events sent the way a customer's server
// would (`POST /api/v1/track` with a secret key). Searches, filters by tag,
// bulk-tags two people, opens a contact, adds a tag and a note and loads older
// timeline entries. Writes docs/screenshots/people.png and contact.png.
//
//   make web && cargo build --bin vibe && bash scripts/ensure-chromium.sh
//   cd e2e && npm ci && VIBE_BIN=../target/debug/vibe node --test people.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DAY, SHOTS, launchChromium, poll as pollFor, recordPage, startVibeProject, testLogs } from './helpers.mjs';

const { serverLog, browserLog, tail, diagnostics, poll } = testLogs();

test('people and contact pages in Chromium', { timeout: 180_000 }, async (t) => {
  let browser;
  t.after(() => browser?.close().catch(() => {}));
  const { vibe, api, cookie, project, secret } = await startVibeProject(t, { name: 'People app', prefix: 'vibe-people-', serverLog, poll });

  // Four identified people; ana pays (two payments, a subscription), uses a
  // feature and AI, and has 60 events, more than one timeline page (50).
  const today = new Date();
  const base = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate()) - 5 * DAY + 9 * 3_600_000;
  const people = [
    ['ana', 'Ana Lima'],
    ['bob', 'Bob Stone'],
    ['cy', 'Cy Young'],
    ['dee', 'Dee Park'],
  ];
  const msg = (user_id, ts, name, props) => ({ type: 'event', id: randomUUID(), user_id, ts, name, props });
  const batch = [
    ...people.map(([u, n], i) => ({ type: 'identify', id: randomUUID(), user_id: u, ts: base + i * 60_000, traits: { email: `${u}@example.com`, name: n, plan: i === 0 ? 'pro' : 'free' } })),
    msg('ana', base + 120_000, 'payment', { payment_id: 'pay_1', amount: 4900, currency: 'USD', plan: 'pro' }),
    msg('ana', base + DAY, 'payment', { payment_id: 'pay_2', amount: 4900, currency: 'USD', plan: 'pro' }),
    msg('ana', base + 120_000, 'subscription', { subscription_id: 'sub_1', plan: 'pro', status: 'active', amount: 4900, currency: 'USD', interval: 'month' }),
    msg('ana', base + 180_000, 'ai_usage', { model: 'gpt-4o', prompt_tokens: 1000, completion_tokens: 500, cost_usd: 0.015 }),
    msg('cy', base + 180_000, 'payment', { payment_id: 'pay_3', amount: 1900, currency: 'USD', plan: 'basic' }),
    ...Array.from({ length: 60 }, (_, i) => msg('ana', base + 2 * DAY + i * 60_000, i % 3 === 0 ? 'export_pdf' : 'opened_app', {})),
  ];
  const tracked = await api('POST', '/api/v1/track', { batch }, { authorization: `Bearer ${secret}`, cookie: '' });
  assert.equal(tracked.status, 202, tracked.text);
  assert.equal(tracked.json.accepted, batch.length, tracked.text);
  const users = `/api/v1/projects/${project.id}/users`;
  await poll('the four people listed', async () => (await api('GET', users)).json?.users?.length === 4);
  for (const [uid, patch] of [
    ['ana', { tags: ['vip'], priority: 'high' }],
    ['cy', { tags: ['vip'], priority: 'low' }],
  ]) {
    const res = await api('PATCH', `${users}/${uid}`, patch);
    assert.equal(res.status, 200, res.text);
  }
  let seen = '';
  await pollFor('ana\'s 60 events stored', async () => {
    const r = await api('GET', `${users}/ana/timeline?limit=100`);
    seen = JSON.stringify({ n: r.json?.items?.length, next: r.json?.next_cursor, types: r.json?.items?.map((i) => i.type + ":" + (i.name ?? "")) });
    return r.json?.items?.filter((i) => i.type === 'event' && i.name !== 'subscription').length === 60;
  }, { ms: 15_000, diagnostics: () => `\n${seen}${diagnostics()}` });

  browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const [name, value] = cookie.split('=');
  await context.addCookies([{ name, value, url: vibe }]);
  const page = await context.newPage();
  recordPage(page, browserLog);
  mkdirSync(SHOTS, { recursive: true });
  const shot = (n) => page.screenshot({ path: path.join(SHOTS, `${n}.png`), fullPage: true });
  const rows = page.getByTestId('person-row');
  const rowIds = async () => (await rows.evaluateAll((els) => els.map((e) => e.textContent))).join('\n');
  const waitRows = (n) =>
    poll(`${n} people rows`, async () => (await rows.count()) === n && !(await page.getByRole('status', { name: 'Loading people' }).count()));

  await t.test('the people page searches, filters by tag and keeps the view in the URL', async () => {
    await page.goto(vibe + '/');
    // `vibe serve` made a default project too: pick ours.
    await page.getByLabel('Project', { exact: true }).selectOption(project.id);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'People' }).click();
    await page.getByRole('heading', { name: 'People', level: 1 }).waitFor();
    await waitRows(4).catch(async (e) => {
      throw new Error(`${e.message}\n--- page ---\n${await page.locator('main').textContent()}`);
    });
    const ana = rows.filter({ hasText: 'ana@example.com' });
    assert.match(await ana.textContent(), /vip\s*high\s*\$98\.00/);

    await page.getByLabel('Search people').fill('bob');
    await waitRows(1);
    assert.match(await rowIds(), /bob@example\.com/);
    assert.equal(new URL(page.url()).search, '?q=bob');
    await page.getByLabel('Search people').fill('');
    await waitRows(4);

    await page.getByLabel('Tag', { exact: true }).selectOption('vip');
    await waitRows(2);
    assert.match(await rowIds(), /ana@example\.com[\s\S]*cy@example\.com|cy@example\.com[\s\S]*ana@example\.com/);
    await page.getByLabel('Priority').selectOption('low');
    await waitRows(1);
    assert.match(await rowIds(), /cy@example\.com/);
    assert.equal(new URL(page.url()).search, '?tag=vip&priority=low');
    // A link reproduces the view.
    await page.goto(vibe + '/people?tag=vip&priority=high');
    await waitRows(1);
    assert.match(await rowIds(), /ana@example\.com/);
    assert.equal(await page.getByLabel('Tag', { exact: true }).inputValue(), 'vip');
    await page.getByLabel('Priority').selectOption('medium');
    await page.getByText('No people match these filters').waitFor();
    await page.getByRole('main').getByRole('button', { name: 'Clear filters' }).first().click();
    await waitRows(4);
    assert.equal(new URL(page.url()).search, '');
  });

  await t.test('bulk-tags two people', async () => {
    await page.getByLabel('Select bob@example.com').check();
    await page.getByLabel('Select dee@example.com').check();
    await page.getByText('2 selected').waitFor();
    await page.getByLabel('Tag to add or remove').fill('Beta');
    await page.getByRole('button', { name: 'Add tag' }).click();
    const done = page.getByTestId('bulk-done');
    await done.waitFor();
    assert.equal(await done.textContent(), 'Tagged 2 of 2 people “beta”.');
    assert.equal(await page.getByTestId('row-error').count(), 0);
    await poll('the refreshed list shows beta', async () => (await rows.filter({ hasText: 'beta' }).count()) === 2);
    const tags = (await api('GET', `/api/v1/projects/${project.id}/tags`)).json.tags;
    assert.deepEqual(tags, [{ tag: 'beta', count: 2 }, { tag: 'vip', count: 2 }]);
    await page.getByLabel('Tag', { exact: true }).selectOption('beta');
    await waitRows(2);
    assert.match(await rowIds(), /bob@example\.com/);
    assert.match(await rowIds(), /dee@example\.com/);
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await waitRows(4);
    await shot('people');
  });

  await t.test('the contact page edits tags, adds a note and pages the timeline', async () => {
    await rows.filter({ hasText: 'ana@example.com' }).getByText('ana@example.com').click();
    await page.getByRole('heading', { name: 'ana@example.com', level: 1 }).waitFor();
    assert.match(new URL(page.url()).pathname, /^\/people\/.+/);
    await page.getByTestId('stat-spent').locator('.metric-value').waitFor();
    assert.match(await page.getByTestId('stat-spent').textContent(), /\$98\.00/);
    assert.match(await page.getByTestId('subscription').textContent(), /pro[\s\S]*active[\s\S]*\$49\.00 \/ month/);
    assert.equal(await page.getByTestId('payments').locator('tbody tr').count(), 2);
    assert.match(await page.getByTestId('feature-usage').textContent(), /export_pdf\s*20/);
    assert.match(await page.getByTestId('token-usage').textContent(), /gpt-4o\s*1\s*1,000\s*500/);

    const editor = page.getByTestId('tags-editor');
    await editor.getByLabel('New tag').fill('Churn-Risk');
    await editor.getByRole('button', { name: 'Add tag' }).click();
    await editor.getByRole('button', { name: 'Remove tag churn-risk' }).waitFor();
    const stored = (await api('GET', `${users}/ana`)).json;
    assert.deepEqual(stored.tags, ['churn-risk', 'vip']);

    const notes = page.getByTestId('notes');
    await notes.getByText('No notes yet').waitFor();
    await notes.getByLabel('New note').fill('Asked for a yearly invoice.');
    await notes.getByRole('button', { name: 'Add note' }).click();
    await notes.getByText('Asked for a yearly invoice.').waitFor();
    assert.match(await notes.getByTestId('note').first().textContent(), /admin@example\.com/);
    assert.equal((await api('GET', `${users}/ana/notes`)).json.notes[0].body, 'Asked for a yearly invoice.');

    const timeline = page.getByTestId('timeline');
    const items = timeline.getByTestId('timeline-item');
    // The note is the newest item; the timeline reloaded after adding it.
    await poll('the note on the timeline', async () => (await items.first().getAttribute('data-type')) === 'note');
    assert.equal(await items.count(), 50);
    await timeline.getByRole('button', { name: 'Load older' }).click();
    // 60 events and the subscription message, 1 note, 2 payments (AI calls
    // are summed on the profile, not listed).
    await poll('the older timeline entries', async () => (await items.count()) === 64);
    const types = await items.evaluateAll((els) => els.map((e) => e.dataset.type));
    assert.deepEqual([...new Set(types)].sort(), ['event', 'note', 'payment']);
    assert.equal(types.filter((x) => x === 'payment').length, 2);
    assert.equal(await timeline.getByRole('button', { name: 'Load older' }).count(), 0);
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot('contact');
  });
  assert.ok(!browserLog.some((l) => l.startsWith('page error')), `no page errors:\n${tail(browserLog)}`);
});
