// Browser end-to-end test of the Segments page against the real `vibe`
// binary: build a two-condition segment in the condition builder, watch the
// live count (`POST …/segments/preview`) change and a server error land on the
// row it names, save, refresh the count after new data, and follow the
// "View people" link. People and events are sent the way a customer's server
// would, through `POST /api/v1/track` with a secret key. Writes
// docs/screenshots/segments.png.
//
//   make web && cargo build --bin vibe && bash scripts/ensure-chromium.sh
//   cd e2e && npm ci && VIBE_BIN=../target/debug/vibe node --test segments.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DAY, SHOTS, launchChromium, recordPage, startVibeProject, testLogs } from './helpers.mjs';

const { serverLog, browserLog, tail, diagnostics, poll } = testLogs();

test('segments: condition builder, live count, save, refresh, people link in Chromium', { timeout: 180_000 }, async (t) => {
  let browser;
  t.after(() => browser?.close().catch(() => {}));
  const { vibe, api, cookie, project, secret } = await startVibeProject(t, { name: 'Segmented app', prefix: 'vibe-segments-', serverLog, poll });
  const track = async (batch) => {
    const r = await api('POST', '/api/v1/track', { batch }, { authorization: `Bearer ${secret}`, cookie: '' });
    assert.equal(r.status, 202, r.text);
    assert.equal(r.json.accepted, batch.length, r.text);
  };

  // Five people by company size; u2, u3 and u4 export PDFs (u1 too, but it is small).
  // Big companies (> 50): u2, u3, u4, u5 — of them exporters: u2, u3, u4.
  const base = Date.now() - 3 * DAY;
  const sizes = { u1: 10, u2: 60, u3: 80, u4: 120, u5: 200 };
  const event = (user_id, name, ts) => ({ type: 'event', id: randomUUID(), user_id, ts, name, props: {} });
  await track([
    ...Object.entries(sizes).map(([u, size]) => ({
      type: 'identify', id: randomUUID(), user_id: u, ts: base, traits: { email: `${u}@example.com`, company_size: size },
    })),
    ...['u1', 'u2', 'u3', 'u4'].map((u, i) => event(u, 'export_pdf', base + 60_000 * (i + 1))),
  ]);
  // The people exist once the collector has written them.
  await poll('five people', async () => {
    const r = await api('GET', `/api/v1/projects/${project.id}/users?segment=all&limit=10`);
    return r.status === 200 && r.json.users.length === 5;
  });

  browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const [name, value] = cookie.split('=');
  await context.addCookies([{ name, value, url: vibe }]);
  const page = await context.newPage();
  recordPage(page, browserLog);
  mkdirSync(SHOTS, { recursive: true });
  const previews = [];
  page.on('request', (r) => r.url().endsWith('/segments/preview') && previews.push(r.postDataJSON()));
  const liveCount = page.getByTestId('live-count');
  const waitCount = (text) =>
    poll(`live count "${text}"`, async () => (await liveCount.textContent()) === text).catch(async (e) => {
      throw new Error(`${e.message}\nlive count now: ${await liveCount.textContent()}`);
    });

  let sid;
  await t.test('build a two-condition segment and watch the live count', async () => {
    await page.goto(vibe + '/');
    await page.getByLabel('Project', { exact: true }).selectOption(project.id);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Segments' }).click();
    await page.getByRole('heading', { name: 'Segments', level: 1 }).waitFor();
    await page.getByText('No segments yet').waitFor();
    await page.getByRole('button', { name: 'New segment' }).click();

    // The fresh trait row has no key yet: the server's error names
    // `criteria.all[0].key`, shown on that row.
    const first = page.getByTestId('cond-row').nth(0);
    await first.getByRole('alert').waitFor();
    assert.match(await first.getByRole('alert').textContent(), /^key must not be empty$/);
    assert.match(await liveCount.textContent(), /Fix the highlighted condition/);

    await first.getByLabel('Trait key', { exact: true }).fill('company_size');
    await first.getByLabel('Operator', { exact: true }).selectOption('gt');
    await first.getByLabel('Value', { exact: true }).fill('50');
    await waitCount('≈ 4 people match');
    assert.equal(await first.getByRole('alert').count(), 0);

    await page.getByRole('button', { name: '+ Condition' }).click();
    const second = page.getByTestId('cond-row').nth(1);
    await second.getByLabel('Kind', { exact: true }).selectOption('event');
    await second.getByLabel('Event name', { exact: true }).fill('export_pdf');
    await waitCount('≈ 3 people match');
    assert.deepEqual(previews.at(-1), {
      criteria: {
        all: [
          { field: 'trait', key: 'company_size', op: 'gt', value: 50 },
          { field: 'event', op: 'performed', name: 'export_pdf' },
        ],
      },
    });
    // Debounced: typing "export_pdf" did not ask once per key.
    assert.ok(previews.length < 12, `${previews.length} previews`);

    // "Any of" widens it to everyone big or exporting: u1…u5.
    await page.getByTestId('cond-root').getByLabel('Match').first().selectOption('any');
    await waitCount('≈ 5 people match');
    await page.getByTestId('cond-root').getByLabel('Match').first().selectOption('all');
    await waitCount('≈ 3 people match');

    await page.getByLabel('Name', { exact: true }).fill('Big exporters');
    await page.getByLabel('Description', { exact: true }).fill('more than 50 people, exported a PDF');
    await page.getByRole('button', { name: 'Create segment' }).click();
    const row = page.locator('[data-testid^="segment-"]').filter({ hasText: 'Big exporters' });
    await row.waitFor();
    sid = (await row.getAttribute('data-testid')).slice('segment-'.length);
    assert.equal(await row.getByTestId('segment-count').textContent(), '3');
    assert.equal(await row.getByTestId('segment-summary').textContent(), 'company_size greater than 50 and performed export_pdf');
    const saved = await api('GET', `/api/v1/projects/${project.id}/segments/${sid}`);
    assert.equal(saved.status, 200, saved.text);
    assert.equal(saved.json.description, 'more than 50 people, exported a PDF');
    assert.deepEqual(saved.json.criteria, previews.at(-1).criteria);
  });

  await t.test('refresh recounts after new data', async () => {
    await track([event('u5', 'export_pdf', Date.now() - 60_000)]);
    const row = page.getByTestId(`segment-${sid}`);
    await poll('refreshed count 4', async () => {
      await row.getByRole('button', { name: 'Refresh Big exporters' }).click();
      await row.getByRole('button', { name: 'Refresh Big exporters' }).waitFor();
      return (await row.getByTestId('segment-count').textContent()) === '4';
    });
    assert.notEqual(await row.getByTestId('segment-counted').textContent(), '—');

    // Editing shows the saved conditions with the current count.
    await row.getByRole('button', { name: 'Edit Big exporters' }).click();
    await waitCount('≈ 4 people match');
    assert.equal(await page.getByTestId('cond-row').nth(0).getByLabel('Trait key', { exact: true }).inputValue(), 'company_size');
    assert.equal(await page.getByTestId('cond-row').nth(1).getByLabel('Event name', { exact: true }).inputValue(), 'export_pdf');
    // A nested "any of" group: seen in the last 30 days (all of them) or VIP.
    await page.getByTestId('cond-root').getByRole('button', { name: '+ Group' }).last().click();
    const group = page.getByTestId('cond-group');
    await group.getByTestId('cond-row').nth(0).getByLabel('Kind', { exact: true }).selectOption('last_seen');
    await group.getByTestId('cond-row').nth(0).getByLabel('Days', { exact: true }).fill('30');
    await group.getByRole('button', { name: '+ Condition' }).click();
    await group.getByTestId('cond-row').nth(1).getByLabel('Kind', { exact: true }).selectOption('priority');
    await group.getByTestId('cond-row').nth(1).getByLabel('Value', { exact: true }).selectOption('vip');
    await poll('nested preview', async () => JSON.stringify(previews.at(-1)?.criteria.all[2]) === JSON.stringify({
      any: [{ field: 'last_seen', op: 'within_days', value: 30 }, { field: 'priority', op: 'eq', value: 'vip' }],
    }));
    await waitCount('≈ 4 people match');
    await page.screenshot({ path: path.join(SHOTS, 'segments.png'), fullPage: true });
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('button', { name: 'New segment' }).waitFor();
  });

  await t.test('"View people" opens the people list of the segment', async () => {
    await page.getByTestId(`segment-${sid}`).getByRole('link', { name: 'View people' }).click();
    await poll('people URL', async () => new URL(page.url()).pathname === '/people');
    assert.equal(new URL(page.url()).search, `?segment=${sid}`);
    // What that page lists: the segment's people.
    const people = await api('GET', `/api/v1/projects/${project.id}/users?segment=${sid}&limit=10`);
    assert.equal(people.status, 200, people.text);
    assert.deepEqual(people.json.users.map((u) => u.user_id).sort(), ['u2', 'u3', 'u4', 'u5']);
  });

  await t.test('delete asks to confirm', async () => {
    await page.goto(vibe + '/segments');
    const row = page.getByTestId(`segment-${sid}`);
    await row.getByRole('button', { name: 'Delete Big exporters' }).click();
    await row.getByRole('button', { name: 'Confirm delete' }).click();
    await page.getByText('No segments yet').waitFor();
    assert.equal((await api('GET', `/api/v1/projects/${project.id}/segments/${sid}`)).status, 404);
  });
  assert.ok(!browserLog.some((l) => l.startsWith('page error')), `no page errors:\n${tail(browserLog)}`);
});
