// Browser end-to-end test of the Inbox against the real `vibe` binary: two
// people sent the way a customer's server would (`POST /api/v1/track` with a
// secret key), conversations with them started through the agent API. The
// owner opens the Inbox, filters it, opens a thread, replies (the reply shows
// its delivery tick), adds an internal note, assigns, resolves and reopens,
// sets their agent status in the header, sees a conversation started through
// the API appear (live events, with polling as the fallback) and starts one
// from a Contact page; an agent (made with `vibe user create`) sets their
// status and sees the shared queue; a viewer gets the no-access state.
// Writes docs/screenshots/inbox.png.
//
//   make web && cargo build --bin vibe && bash scripts/ensure-chromium.sh
//   cd e2e && npm ci && VIBE_BIN=../target/debug/vibe node --test inbox.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { SHOTS, launchChromium, recordPage, startVibeProject, testLogs } from './helpers.mjs';

const { serverLog, browserLog, tail, diagnostics, poll } = testLogs();

test('the inbox in Chromium', { timeout: 180_000 }, async (t) => {
  let browser;
  t.after(() => browser?.close().catch(() => {}));
  const { vibe, api, cookie, project, secret, bin, env } = await startVibeProject(t, { name: 'Support app', prefix: 'vibe-inbox-', serverLog, poll });

  const ts = Date.now() - 3_600_000;
  const batch = [
    ['ana', 'Ana Lima'],
    ['bob', 'Bob Stone'],
  ].map(([u, n]) => ({ type: 'identify', id: randomUUID(), user_id: u, ts, traits: { email: `${u}@example.com`, name: n, plan: 'pro' } }));
  const tracked = await api('POST', '/api/v1/track', { batch }, { authorization: `Bearer ${secret}`, cookie: '' });
  assert.equal(tracked.status, 202, tracked.text);
  const users = `/api/v1/projects/${project.id}/users`;
  await poll('the two people listed', async () => (await api('GET', users)).json?.users?.length === 2);

  // Ana's conversation in-app (a reply is stored `sent`), Bob's on WhatsApp
  // with high priority and nobody assigned (a reply would wait `queued`).
  const ana = await api('POST', `${users}/ana/conversations`, { message: 'Hi Ana, your order shipped.' });
  assert.equal(ana.status, 201, ana.text);
  const bob = await api('POST', `${users}/bob/conversations`, { channel: 'whatsapp', priority: 'high', assignee: null, message: 'Hello Bob' });
  assert.equal(bob.status, 201, bob.text);
  const convs = `/api/v1/projects/${project.id}/conversations`;

  browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const [name, value] = cookie.split('=');
  await context.addCookies([{ name, value, url: vibe }]);
  const page = await context.newPage();
  recordPage(page, browserLog);
  mkdirSync(SHOTS, { recursive: true });
  const items = page.getByTestId('conversation-item');
  const messages = page.getByTestId('message');
  const waitItems = (n) => poll(`${n} conversations listed`, async () => (await items.count()) === n);

  await t.test('the owner opens the Inbox, filters it and replies with a tick', async () => {
    await page.goto(vibe + '/');
    // `vibe serve` made a default project too: pick ours.
    await page.getByLabel('Project', { exact: true }).selectOption(project.id);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Inbox' }).click();
    await page.getByRole('heading', { name: 'Inbox', level: 1 }).waitFor();
    await waitItems(2).catch(async (e) => {
      throw new Error(`${e.message}\n--- page ---\n${await page.locator('main').textContent()}`);
    });
    // Latest activity first: Bob's, then Ana's.
    assert.match(await items.nth(0).textContent(), /Bob Stone[\s\S]*WhatsApp[\s\S]*high/);
    assert.match(await items.nth(1).textContent(), /Ana Lima[\s\S]*In-app/);

    await page.getByLabel('Assignee', { exact: true }).selectOption('none');
    await waitItems(1);
    assert.match(await items.first().textContent(), /Bob Stone/);
    assert.equal(new URL(page.url()).search, '?assignee=none');
    await page.getByLabel('Assignee', { exact: true }).selectOption('');
    await page.getByLabel('Search conversations').fill('shipped');
    await poll('the search keeps Ana only', async () => (await items.count()) === 1 && /Ana Lima/.test(await items.first().textContent()));
    await page.getByLabel('Search conversations').fill('');
    await waitItems(2);

    await items.filter({ hasText: 'Ana Lima' }).click();
    assert.equal(new URL(page.url()).pathname, `/inbox/${ana.json.id}`);
    await page.getByTestId('conversation-view').waitFor();
    await poll('the first message', async () => (await messages.count()) === 1);
    assert.equal(await messages.first().getAttribute('data-direction'), 'out');
    assert.equal(await messages.first().getByTestId('tick').getAttribute('data-status'), 'sent');
    // The contact beside the thread links to the Contact page.
    await page.getByTestId('contact-summary-name').waitFor();
    assert.equal(await page.getByTestId('contact-summary-name').textContent(), 'ana@example.com');
    assert.equal(await page.getByRole('link', { name: 'Open contact page →' }).getAttribute('href'), `/people/${encodeURIComponent(ana.json.site_user_id)}`);

    await page.getByLabel('Reply to the contact').fill('Tracking number: VB123');
    await page.getByRole('button', { name: 'Send reply' }).click();
    await poll('the reply in the thread', async () => (await messages.count()) === 2);
    const reply = messages.last();
    assert.match(await reply.textContent(), /Tracking number: VB123[\s\S]*You/);
    assert.equal(await reply.getByTestId('tick').getAttribute('data-status'), 'sent');
    assert.equal(await reply.getByRole('img', { name: 'Sent' }).textContent(), '✓');
    const stored = (await api('GET', `${convs}/${ana.json.id}/messages`)).json.messages;
    assert.equal(stored[0].body, 'Tracking number: VB123');
    assert.equal(stored[0].private, false);
    assert.equal(stored[0].delivery_status, 'sent');

    await page.getByRole('button', { name: 'Internal note', exact: true }).click();
    await page.getByLabel('Internal note').fill('She asked twice already.');
    await page.getByRole('button', { name: 'Add note' }).click();
    await poll('the note in the thread', async () => (await messages.count()) === 3);
    assert.equal(await messages.last().getAttribute('data-private'), 'true');
    assert.equal(await messages.last().getByTestId('tick').count(), 0);
    assert.equal((await api('GET', `${convs}/${ana.json.id}/messages`)).json.messages[0].private, true);
    await page.getByRole('button', { name: 'Reply', exact: true }).click();
    await page.screenshot({ path: path.join(SHOTS, 'inbox.png') });
  });

  await t.test('bob\'s conversation is assigned to me, made urgent and resolved', async () => {
    await items.filter({ hasText: 'Bob Stone' }).click();
    await page.getByTestId('conversation-view').getByRole('heading', { name: 'Bob Stone' }).waitFor();
    await page.getByRole('button', { name: 'Assign to me' }).click();
    await page.getByRole('button', { name: 'Assign to me' }).waitFor({ state: 'detached' });
    await page.getByLabel('Priority of the conversation').selectOption('urgent');
    await poll('bob urgent and mine', async () => {
      const c = (await api('GET', `${convs}/${bob.json.id}`)).json;
      return c.priority === 'urgent' && c.assignee_account_id !== null;
    });
    await page.getByRole('button', { name: 'Resolve' }).click();
    await poll('resolved', async () => (await page.getByTestId('conversation-status').textContent()) === 'resolved');
    assert.equal((await api('GET', `${convs}/${bob.json.id}`)).json.status, 'resolved');
    // It left the Open tab (the list refreshes) and is under Resolved.
    await waitItems(1);
    await page.getByRole('tab', { name: 'Resolved' }).click();
    await poll('bob under Resolved', async () => (await items.count()) === 1 && /Bob Stone/.test(await items.first().textContent()));
    await page.getByRole('button', { name: 'Reopen' }).click();
    await poll('reopened', async () => (await api('GET', `${convs}/${bob.json.id}`)).json.status === 'open');
  });

  await t.test('the agent status in the header is saved', async () => {
    const select = page.getByLabel('Agent status');
    assert.equal(await select.inputValue(), 'offline');
    const put = page.waitForResponse((r) => r.url().endsWith('/agents/me/status') && r.request().method() === 'PUT');
    await select.selectOption('away');
    const res = await put;
    assert.equal(res.status(), 200);
    assert.equal((await res.json()).status, 'away');
    assert.equal(await select.inputValue(), 'away');
  });

  await t.test('a conversation started elsewhere appears without a reload (polling)', async () => {
    await page.getByRole('tab', { name: 'Open' }).click();
    await waitItems(2);
    const started = await api('POST', `${users}/bob/conversations`, { channel: 'email', message: 'Your invoice is attached' });
    assert.equal(started.status, 201, started.text);
    await poll('the new conversation listed', async () => (await items.count()) === 3, 15_000);
    assert.equal(await items.first().getAttribute('data-cid'), started.json.id);
  });

  await t.test('"New message" on a contact starts a conversation and opens it', async () => {
    await page.goto(`${vibe}/people/${ana.json.site_user_id}`);
    await page.getByRole('heading', { name: 'ana@example.com', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'New message' }).click();
    await page.getByLabel('First message').fill('A follow-up about your invoice');
    await page.getByRole('button', { name: 'Send and open in Inbox' }).click();
    await poll('the new conversation open', async () => /^\/inbox\/.+/.test(new URL(page.url()).pathname) && new URL(page.url()).pathname !== `/inbox/${ana.json.id}`);
    await poll('its first message', async () => (await messages.count()) === 1 && /A follow-up about your invoice/.test(await messages.first().textContent()));
    const listed = (await api('GET', `${users}/ana/conversations`)).json.conversations;
    assert.equal(listed.length, 2);
  });
  await t.test('an agent sets their status; a viewer sees no conversations', async () => {
    const password = 'another-horse-battery';
    const contexts = [];
    t.after(() => Promise.all(contexts.map((c) => c.close().catch(() => {}))));
    const signIn = async (email, role) => {
      const made = spawnSync(bin, ['user', 'create', '--email', email, '--password', password, '--role', 'viewer'], { env, encoding: 'utf8' });
      assert.equal(made.status, 0, made.stderr);
      const member = await api('POST', `/api/v1/projects/${project.id}/members`, { email, role });
      assert.equal(member.status, 201, member.text);
      const login = await fetch(`${vibe}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: vibe }, body: JSON.stringify({ email, password }) });
      assert.equal(login.status, 200);
      const [n, v] = login.headers.getSetCookie().find((c) => c.startsWith('vibe_session=')).split(';')[0].split('=');
      const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      contexts.push(ctx);
      await ctx.addCookies([{ name: n, value: v, url: vibe }]);
      const p = await ctx.newPage();
      recordPage(p, browserLog);
      await p.goto(`${vibe}/inbox`);
      // `vibe user create` made them a member of the default project too: pick ours.
      await p.getByLabel('Project', { exact: true }).selectOption(project.id);
      await p.getByRole('heading', { name: 'Inbox', level: 1 }).waitFor();
      return p;
    };

    // Unassigned conversations are an agent's shared queue; Ana's are the owner's.
    const unassigned = await api('PATCH', `${convs}/${bob.json.id}`, { assignee: null });
    assert.equal(unassigned.status, 200, unassigned.text);
    const agent = await signIn('agent@example.com', 'agent');
    agent.on('response', (r) => r.status() >= 400 && browserLog.push(`agent got ${r.status()} for ${r.url()}`));
    await poll('the agent\'s queue', async () => (await agent.getByTestId('conversation-item').count()) === 1, 15_000).catch(async (e) => {
      throw new Error(`${e.message}\n--- page ---\n${await agent.locator('main').textContent()}`);
    });
    assert.match(await agent.getByTestId('conversation-item').textContent(), /Bob Stone/);
    await agent.getByLabel('Agent status').selectOption('online');
    await poll('the agent online', async () => {
      const list = (await api('GET', `/api/v1/projects/${project.id}/agents`)).json.agents;
      return list.find((a) => a.email === 'agent@example.com')?.status === 'online';
    });
    // After a reload the header shows the stored status.
    await agent.reload();
    await poll('online after a reload', async () => (await agent.getByLabel('Agent status').inputValue()) === 'online');

    const viewer = await signIn('viewer@example.com', 'viewer');
    await viewer.getByTestId('inbox-forbidden').waitFor();
    assert.match(await viewer.getByTestId('inbox-forbidden').textContent(), /No access to conversations/);
    assert.equal(await viewer.getByLabel('Agent status').count(), 0);
    assert.equal(await viewer.getByRole('alert').count(), 0);
  });

  await t.test('the inbox and the header fit a phone', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, storageState: await context.storageState() });
    const p = await phone.newPage();
    recordPage(p, browserLog);
    await p.goto(`${vibe}/inbox/${ana.json.id}`);
    await p.getByLabel('Project', { exact: true }).selectOption(project.id);
    await p.getByTestId('conversation-view').waitFor();
    await p.getByLabel('Agent status').waitFor();
    const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `the page scrolls sideways by ${overflow}px`);
    await phone.close();
  });
  assert.ok(!browserLog.some((l) => l.startsWith('page error')), `no page errors:\n${tail(browserLog)}\n${diagnostics()}`);
});
