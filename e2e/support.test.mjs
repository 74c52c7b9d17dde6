// Browser end-to-end test of the Support page (issue 13 item 7) against the
// real `vibe` binary. Two people are sent the way a customer's server would
// (`POST /api/v1/track` with a secret key); conversations with them are
// started through the agent API, one held by the owner, two by an agent (made
// with `vibe user create`), one of them resolved; the agent goes online.
// The owner sees every agent, the business impact, the exports, and drills
// from a heatmap cell into the Inbox filtered to that weekday and hour (a
// removable chip) and from an agent's row into it filtered to that agent; the agent sees
// only their own figures (their row alone, no business impact, no exports);
// the page fits a phone; a new conversation ticks the KPI strip with the
// figures the live feed pushes, without a request. The figures on screen are checked against what the
// API answers the same account, so the test follows the metric definitions
// (docs/metrics.md) rather than restating them.
// Writes docs/screenshots/support.png, support-agent.png, support-phone.png.
//
// Needs the support analytics endpoints (`/api/v1/projects/{id}/support/*`).
//
//   make web && cargo build --bin vibe && bash scripts/ensure-chromium.sh
//   cd e2e && npm ci && VIBE_BIN=../target/debug/vibe node --test support.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { SHOTS, launchChromium, recordPage, startVibeProject, testLogs } from './helpers.mjs';

const { serverLog, browserLog, tail, diagnostics, poll } = testLogs();
const fmtInt = (n) => Math.round(n).toLocaleString('en-US');

test('the support page in Chromium', { timeout: 180_000 }, async (t) => {
  let browser;
  const contexts = [];
  t.after(async () => {
    await Promise.all(contexts.map((c) => c.close().catch(() => {})));
    await browser?.close().catch(() => {});
  });
  const { vibe, api, cookie, project, secret, bin, env } = await startVibeProject(t, { name: 'Support analytics', prefix: 'vibe-support-', serverLog, poll });
  const base = `/api/v1/projects/${project.id}`;

  // The agent: an account, a member with the agent role, signed in.
  const agentEmail = 'agent@example.com';
  const agentPassword = 'another-horse-battery';
  const made = spawnSync(bin, ['user', 'create', '--email', agentEmail, '--password', agentPassword, '--role', 'viewer'], { env, encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  const member = await api('POST', `${base}/members`, { email: agentEmail, role: 'agent' });
  assert.equal(member.status, 201, member.text);
  const agentId = member.json.account_id;
  assert.ok(agentId, member.text);
  const login = await fetch(`${vibe}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: vibe }, body: JSON.stringify({ email: agentEmail, password: agentPassword }) });
  assert.equal(login.status, 200);
  const agentCookie = login.headers.getSetCookie().find((c) => c.startsWith('vibe_session=')).split(';')[0];
  const asAgent = (method, p, body) => api(method, p, body, { cookie: agentCookie });

  // Two people, and their conversations: Ana's held by the owner; Bob's two
  // (in-app and WhatsApp) by the agent, the in-app one resolved.
  const ts = Date.now() - 3_600_000;
  const batch = [['ana', 'Ana Lima'], ['bob', 'Bob Stone']].map(([u, n]) => ({ type: 'identify', id: randomUUID(), user_id: u, ts, traits: { email: `${u}@example.com`, name: n } }));
  const tracked = await api('POST', '/api/v1/track', { batch }, { authorization: `Bearer ${secret}`, cookie: '' });
  assert.equal(tracked.status, 202, tracked.text);
  await poll('the two people listed', async () => (await api('GET', `${base}/users`)).json?.users?.length === 2);
  const ana = await api('POST', `${base}/users/ana/conversations`, { message: 'Hi Ana, your order shipped.' });
  assert.equal(ana.status, 201, ana.text);
  const bob1 = await api('POST', `${base}/users/bob/conversations`, { assignee: agentId, message: 'Hi Bob, about your refund' });
  assert.equal(bob1.status, 201, bob1.text);
  const bob2 = await api('POST', `${base}/users/bob/conversations`, { channel: 'whatsapp', priority: 'high', assignee: agentId, message: 'Hello Bob' });
  assert.equal(bob2.status, 201, bob2.text);
  assert.equal((await api('PATCH', `${base}/conversations/${bob1.json.id}`, { status: 'resolved' })).status, 200);
  assert.equal((await asAgent('PUT', `${base}/agents/me/status`, { status: 'online' })).status, 200);

  // What the API answers each of them: the page must show the same.
  const ownerKpi = await api('GET', `${base}/support/kpi`);
  assert.equal(ownerKpi.status, 200, `the support endpoints are needed: ${ownerKpi.text}`);
  const agentKpi = await asAgent('GET', `${base}/support/kpi`);
  assert.equal(agentKpi.status, 200, agentKpi.text);
  assert.equal(ownerKpi.json.scope, 'all');
  assert.equal(agentKpi.json.scope, 'own');
  const ownerAgents = (await api('GET', `${base}/support/agent-productivity`)).json.agent_metrics;
  const agentAgents = (await asAgent('GET', `${base}/support/agent-productivity`)).json.agent_metrics;
  assert.ok(ownerAgents.some((a) => a.agent_id === agentId) && ownerAgents.length >= 2, JSON.stringify(ownerAgents));
  assert.deepEqual(agentAgents.map((a) => a.agent_id), [agentId]);
  assert.equal((await asAgent('GET', `${base}/support/business-impact`)).status, 403);

  browser = await launchChromium();
  mkdirSync(SHOTS, { recursive: true });
  const open = async (sessionCookie, viewport = { width: 1400, height: 900 }, extra = {}) => {
    const ctx = await browser.newContext({ viewport, ...extra });
    contexts.push(ctx);
    const [n, v] = sessionCookie.split('=');
    await ctx.addCookies([{ name: n, value: v, url: vibe }]);
    const p = await ctx.newPage();
    recordPage(p, browserLog);
    p.on('response', (r) => r.status() >= 500 && browserLog.push(`got ${r.status()} for ${r.url()}`));
    await p.goto(`${vibe}/support`);
    // `vibe serve` (and `vibe user create`) made a default project too: pick ours.
    await p.getByLabel('Project', { exact: true }).selectOption(project.id);
    await p.getByRole('heading', { name: 'Support', level: 1 }).waitFor();
    return p;
  };
  const kpiValue = (p, key) => p.getByTestId(`kpi-${key}`).locator('.metric-value').textContent();

  await t.test('the owner sees every agent, business impact and exports', async () => {
    const page = await open(cookie);
    await poll('the KPI strip', async () => (await page.getByTestId(`kpi-active_conversations`).count()) === 1).catch(async (e) => {
      throw new Error(`${e.message}\n--- page ---\n${await page.locator('main').textContent()}`);
    });
    assert.equal(await kpiValue(page, 'active_conversations'), fmtInt(ownerKpi.json.active_conversations.value));
    assert.equal(await kpiValue(page, 'open_tickets'), fmtInt(ownerKpi.json.open_tickets.value));
    assert.equal(await page.getByTestId('kpi-avg_response_time').getAttribute('data-sla'), ownerKpi.json.avg_response_time.sla_status);
    const rows = page.getByTestId('agent-row');
    await poll('the agent table', async () => (await rows.count()) === ownerAgents.length);
    await page.getByTestId('support-business').getByTestId('leads').waitFor();
    assert.ok((await page.getByTestId('support-export').count()) >= 2);
    assert.match(await page.getByTestId('support-export').first().getAttribute('href'), /\/support\/export\/conversations\.csv\?date_range=today$/);
    const csv = await api('GET', (await page.getByTestId('support-export').first().getAttribute('href')).replace(vibe, ''));
    assert.equal(csv.status, 200, csv.text);
    await page.getByTestId('activity-timeline').waitFor();
    assert.equal(await page.getByRole('alert').count(), 0, await page.locator('main').textContent());
    await page.screenshot({ path: path.join(SHOTS, 'support.png'), fullPage: true });

    // The week range is in the URL and asked for.
    const asked = page.waitForRequest((r) => r.url().includes('/support/kpi?date_range=week'));
    await page.getByRole('button', { name: 'Week', exact: true }).click();
    await asked;
    assert.equal(new URL(page.url()).search, '?range=week');

    // Drill-down: a busy heatmap cell opens the Inbox with the conversations
    // created on that weekday and hour of the range, shown as a removable chip.
    const cell = page.locator('[data-testid="heat-cell"]:not(.sheat-0)').first();
    await cell.waitFor();
    const [dow, hour] = [await cell.getAttribute('data-day'), await cell.getAttribute('data-hour')];
    await cell.click();
    await poll('the Inbox filtered to the cell', async () => new URL(page.url()).pathname === '/inbox');
    const params = new URL(page.url()).searchParams;
    assert.deepEqual([params.get('created_dow'), params.get('created_hour')], [dow, hour]);
    const chip = page.getByTestId('created-chip');
    await chip.waitFor();
    const cellQuery = ['created_from', 'created_to', 'created_dow', 'created_hour'].map((k) => `${k}=${params.get(k)}`).join('&');
    const inCell = await api('GET', `${base}/conversations?status=open&${cellQuery}`);
    assert.equal(inCell.status, 200, inCell.text);
    const want = JSON.stringify(inCell.json.conversations.map((c) => c.id).sort());
    await poll('the cell\'s open conversations', async () =>
      JSON.stringify((await page.getByTestId('conversation-item').evaluateAll((els) => els.map((e) => e.dataset.cid))).sort()) === want);
    await chip.getByRole('button', { name: 'Remove the day and hour filter' }).click();
    await poll('the chip removed', async () => (await chip.count()) === 0 && !new URL(page.url()).searchParams.has('created_dow'));
    await page.goBack();
    await poll('back on the Support page', async () => new URL(page.url()).pathname === '/support');

    // Drill-down: the agent's row opens the Inbox with their conversations.
    await page.locator(`[data-testid="agent-row"][data-agent="${agentId}"]`).getByTestId('agent-link').click();
    await poll('the Inbox filtered to the agent', async () => new URL(page.url()).pathname === '/inbox');
    assert.equal(new URL(page.url()).searchParams.get('assignee'), agentId);
    await page.getByRole('heading', { name: 'Inbox', level: 1 }).waitFor();
    // Open conversations of the agent: Bob's WhatsApp one only (the in-app one is resolved).
    await poll('the agent\'s open conversation', async () => {
      const items = page.getByTestId('conversation-item');
      return (await items.count()) === 1 && (await items.first().getAttribute('data-cid')) === bob2.json.id;
    });
  });

  await t.test('the agent sees only their own figures', async () => {
    const page = await open(agentCookie);
    await poll('the KPI strip', async () => (await page.getByTestId('kpi-active_conversations').count()) === 1);
    assert.equal(await kpiValue(page, 'active_conversations'), fmtInt(agentKpi.json.active_conversations.value));
    assert.equal(await kpiValue(page, 'open_tickets'), fmtInt(agentKpi.json.open_tickets.value));
    assert.match(await page.getByTestId('support-scope').textContent(), /Your own/);
    const rows = page.getByTestId('agent-row');
    await poll('the agent\'s own row', async () => (await rows.count()) === 1);
    assert.equal(await rows.first().getAttribute('data-agent'), agentId);
    assert.equal(await page.getByText('admin@example.com').count(), 0);
    assert.equal(await page.getByTestId('support-business').count(), 0);
    assert.equal(await page.getByTestId('support-export').count(), 0);
    assert.equal(await page.getByLabel('Agent', { exact: true }).count(), 0);
    // Their own row opens "mine".
    assert.equal(await rows.first().getByTestId('agent-link').getAttribute('href'), '/inbox?assignee=me');
    await page.screenshot({ path: path.join(SHOTS, 'support-agent.png'), fullPage: true });
  });

  await t.test('the page fits a phone', async () => {
    const page = await open(cookie, { width: 390, height: 844 }, { isMobile: true, hasTouch: true });
    await poll('the KPI strip', async () => (await page.getByTestId('kpi-active_conversations').count()) === 1);
    await page.getByTestId('agent-table').waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `the page scrolls sideways by ${overflow}px`);
    await page.screenshot({ path: path.join(SHOTS, 'support-phone.png') });
  });

  await t.test('the KPI strip ticks without a reload', async () => {
    const page = await open(cookie);
    await poll('the live socket', async () => (await page.getByTestId('support-live').getAttribute('data-live')) === 'true');
    // The page subscribed when its socket opened; give the server a moment to read that.
    await new Promise((r) => setTimeout(r, 500));
    let asked = 0;
    page.on('request', (r) => { if (r.url().includes('/support/kpi')) asked += 1; });
    const before = await kpiValue(page, 'active_conversations');
    const more = await api('POST', `${base}/users/ana/conversations`, { message: 'Ana, one more thing' });
    assert.equal(more.status, 201, more.text);
    const now = (await api('GET', `${base}/support/kpi`)).json;
    assert.notEqual(fmtInt(now.active_conversations.value), before);
    await poll('the pushed KPI strip', async () => (await kpiValue(page, 'active_conversations')) === fmtInt(now.active_conversations.value));
    assert.equal(asked, 0, 'the strip shows the pushed figures rather than asking again');
  });
  assert.ok(!browserLog.some((l) => l.startsWith('page error')), `no page errors:\n${tail(browserLog)}\n${diagnostics()}`);
});
