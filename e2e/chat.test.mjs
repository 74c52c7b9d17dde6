// Browser end-to-end test of the in-app chat widget against the real `vibe`
// binary: the owner turns the chat widget on (Integration), the snippet gains the
// `/vibe-chat.js` tag, a page on another origin embeds it. A visitor writes
// in the widget; the owner, with the Inbox open, sees the conversation arrive
// live (no reload; the fallback poll is 30 s while the socket is up), opens
// it and replies; the visitor's widget shows the reply and marks it read; the
// owner's thread shows the read tick, and the visitor sees their own message
// read.
//
//   npm --prefix web run build && cargo build --bin vibe && bash scripts/ensure-chromium.sh
//   cd e2e && npm ci && VIBE_BIN=../target/debug/vibe node --test chat.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { USER_AGENT, launchChromium, recordPage, startVibeProject, testLogs } from './helpers.mjs';

const { serverLog, browserLog, diagnostics, poll } = testLogs();

test('the chat widget and the live Inbox in Chromium', { timeout: 180_000 }, async (t) => {
  let browser;
  let pageServer;
  t.after(() => {
    pageServer?.close();
    return browser?.close().catch(() => {});
  });
  const { vibe, api, cookie, project } = await startVibeProject(t, { name: 'Chat shop', prefix: 'vibe-chat-', serverLog, poll });

  // Off by default: the snippet has no chat tag and the widget stays hidden.
  let snip = await api('GET', `/api/v1/projects/${project.id}/snippet`);
  assert.ok(!snip.json.snippet.includes('vibe-chat.js'), snip.text);

  browser = await launchChromium();
  // The owner turns the widget on in Integration, then opens the Inbox.
  const agentCtx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const [name, value] = cookie.split('=');
  await agentCtx.addCookies([{ name, value, url: vibe }]);
  const inbox = await agentCtx.newPage();
  recordPage(inbox, browserLog);
  await inbox.goto(vibe + '/');
  await inbox.getByLabel('Project', { exact: true }).selectOption(project.id);
  await inbox.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Integration' }).click();
  await inbox.getByRole('button', { name: 'Turn on the chat widget' }).click();
  await poll('the chat tag in the snippet', async () => /vibe-chat\.js/.test((await inbox.getByTestId('snippet').textContent()) ?? ''));
  snip = await api('GET', `/api/v1/projects/${project.id}/snippet`);
  const snippet = snip.json.snippet;
  assert.ok(snippet.includes(`src="${vibe}/vibe-chat.js" data-key="${project.write_key}"`), snippet);
  const js = await fetch(`${vibe}/vibe-chat.js`);
  assert.equal(js.status, 200);
  assert.ok(js.headers.get('etag'));
  assert.equal(js.headers.get('access-control-allow-origin'), '*');

  const html = `<!doctype html>
<html><head><meta charset="utf-8"><title>Chat shop</title><link rel="icon" href="data:,">
${snippet}
</head><body><h1>Chat shop</h1></body></html>`;
  pageServer = createServer((req, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html));
  await new Promise((r) => pageServer.listen(0, '127.0.0.1', r));
  const pageUrl = `http://127.0.0.1:${pageServer.address().port}/shop`;

  await inbox.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Inbox' }).click();
  await inbox.getByRole('heading', { name: 'Inbox', level: 1 }).waitFor();
  await poll('the Inbox is live', async () => (await inbox.getByTestId('inbox-live').textContent()) === 'Live');
  const items = inbox.getByTestId('conversation-item');
  assert.equal(await items.count(), 0);

  // The visitor.
  const visitorCtx = await browser.newContext({ userAgent: USER_AGENT });
  const site = await visitorCtx.newPage();
  recordPage(site, browserLog);
  site.on('response', (r) => {
    if (r.url().startsWith(vibe)) browserLog.push(`${r.request().method()} ${r.url()} -> ${r.status()}`);
  });
  await site.goto(pageUrl);
  const toggle = site.locator('#vibe-chat .vc-toggle');
  await toggle.waitFor({ timeout: 15_000 }).catch((e) => assert.fail(`${e.message}${diagnostics()}`));
  await toggle.click();
  await site.getByLabel('Message').fill('Hello, is my order shipped?');
  await site.getByRole('button', { name: 'Send' }).click();
  await poll('the message in the widget', async () => (await site.locator('#vibe-chat .vc-in').count()) === 1);
  const sentAt = Date.now();

  // Live in the Inbox, without a reload, well before the 30 s fallback poll.
  await poll('the conversation in the Inbox', async () => (await items.count()) === 1, 10_000);
  assert.ok(Date.now() - sentAt < 10_000);
  assert.match(await items.first().textContent(), /In-app/);
  await items.first().click();
  const messages = inbox.getByTestId('message');
  await poll('the visitor message in the thread', async () => /Hello, is my order shipped\?/.test((await messages.first().textContent()) ?? ''));

  await inbox.getByLabel('Reply to the contact').fill('Yes, it left this morning.');
  await inbox.getByRole('button', { name: 'Send reply' }).click();
  await poll('the reply in the thread', async () => (await messages.count()) === 2);
  const reply = messages.last();
  assert.equal(await reply.getByTestId('tick').getAttribute('data-status'), 'sent');

  // The widget shows the reply (it polls every 3 s while open) and reads it.
  await poll('the reply in the widget', async () => /Yes, it left this morning\./.test((await site.locator('#vibe-chat .vc-out').last().textContent().catch(() => '')) ?? ''));
  // The agent sees "read", live.
  await poll('the read tick in the Inbox', async () => (await reply.getByTestId('tick').getAttribute('data-status')) === 'read', 10_000);
  // The agent opened the thread: the visitor sees their message read.
  await poll('the visitor sees their message read', async () => (await site.locator('#vibe-chat .vc-in .vc-st').textContent()) === 'Read', 10_000);
  await site.screenshot({ path: '/tmp/vibe-chat-widget.png' });
  await inbox.screenshot({ path: '/tmp/vibe-chat-inbox.png' });
});
