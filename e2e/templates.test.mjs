// Browser end-to-end test of the Templates page against the real `vibe`
// binary: write an email template whose second line uses an unknown filter
// (the error is shown under the HTML body with its line), fix and save it,
// then preview it for a real contact picked through the people search. The
// HTML renders in the sandboxed `srcdoc` frame under the dashboard's CSP: a
// script-looking trait is shown as text, the template's own `<script>` does
// not run, and the text part is derived from the HTML. Writes
// docs/screenshots/templates.png.
//
//   make web && cargo build --bin vibe && bash scripts/ensure-chromium.sh
//   cd e2e && npm ci && VIBE_BIN=../target/debug/vibe node --test templates.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { SHOTS, launchChromium, recordPage, startVibeProject, testLogs } from './helpers.mjs';

const { serverLog, browserLog, tail, poll } = testLogs();

test('templates: editor errors with the line, save, sandboxed preview for a contact in Chromium', { timeout: 180_000 }, async (t) => {
  let browser;
  t.after(() => browser?.close().catch(() => {}));
  const { vibe, api, cookie, project, secret } = await startVibeProject(t, { name: 'Templated shop', prefix: 'vibe-templates-', serverLog, poll });
  const bio = '<script>alert("x")</script> & co';
  const r = await api('POST', '/api/v1/track', {
    batch: [{ type: 'identify', id: randomUUID(), user_id: 'ada', ts: Date.now() - 60_000,
      traits: { name: 'Ada', email: 'ada@example.com', plan: 'pro', bio } }],
  }, { authorization: `Bearer ${secret}`, cookie: '' });
  assert.equal(r.status, 202, r.text);
  await poll('Ada stored', async () => (await api('GET', `/api/v1/projects/${project.id}/users/ada`)).status === 200);

  browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  const [name, value] = cookie.split('=');
  await context.addCookies([{ name, value, url: vibe }]);
  const page = await context.newPage();
  recordPage(page, browserLog);
  mkdirSync(SHOTS, { recursive: true });

  await page.goto(vibe + '/');
  await page.getByLabel('Project', { exact: true }).selectOption(project.id);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Templates' }).click();
  await page.getByRole('heading', { name: 'Templates', level: 1 }).waitFor();
  await page.getByText('No templates yet').waitFor();
  const title = await page.title();

  await page.getByRole('button', { name: 'New template' }).click();
  await page.getByLabel('Name', { exact: true }).fill('Welcome');
  await page.getByLabel('Subject', { exact: true }).fill('Welcome, {{ contact.name }} <3');
  const html = page.getByLabel('HTML body', { exact: true });
  await html.fill('<h1>Hi {{ contact.name }}</h1>\n<p>{{ contact.traits.plan | shout }}</p>');
  await page.getByRole('button', { name: 'Create template' }).click();
  const err = page.getByTestId('error-body_html');
  await err.waitFor();
  assert.match(await err.textContent(), /Line 2/);
  assert.match(await err.textContent(), /unknown filter `shout`/);
  assert.equal(await html.getAttribute('aria-invalid'), 'true');

  await html.fill(
    '<h1>Hi {{ contact.name }}</h1>\n<p>Plan {{ contact.traits.plan | upper }}. {{ contact.traits.bio }}</p>\n' +
      '<script>parent.document.title = "pwned"</script>\n<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>',
  );
  await page.getByRole('button', { name: 'Create template' }).click();
  const row = page.locator('[data-testid^="template-"]').filter({ hasText: 'Welcome' });
  await row.waitFor();
  const list = await api('GET', `/api/v1/projects/${project.id}/templates`);
  assert.equal(list.json.templates.length, 1, list.text);
  assert.equal(list.json.templates[0].subject, 'Welcome, {{ contact.name }} <3');

  await row.getByRole('button', { name: 'Edit Welcome' }).click();
  await page.getByLabel('A contact of this project').check();
  await page.getByLabel('Search people').fill('ada');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await page.getByRole('button', { name: /^Ada · ada@example\.com/ }).click();
  await page.getByRole('button', { name: 'Render preview' }).click();
  await page.getByTestId('preview-html').waitFor();
  assert.equal(await page.getByTestId('preview-subject').textContent(), 'Welcome, Ada <3');
  assert.equal(await page.getByTestId('preview-html').getAttribute('sandbox'), '');

  // The frame rendered the email: the bio as text, no script ran.
  const frame = page.frameLocator('[data-testid="preview-html"]');
  assert.equal(await frame.locator('h1').textContent(), 'Hi Ada');
  assert.match(await frame.locator('p').first().textContent(), /Plan PRO\. <script>alert\("x"\)<\/script> & co/);
  assert.equal(await page.title(), title);
  const text = await page.getByTestId('preview-text').textContent();
  assert.match(text, /^Hi Ada\nPlan PRO\. <script>alert\("x"\)<\/script> & co\nUnsubscribe \(http:\/\/127\.0\.0\.1:\d+\/unsubscribe\/preview\)$/);
  await page.getByText('Text part (derived from the HTML)').waitFor();
  await page.screenshot({ path: path.join(SHOTS, 'templates.png'), fullPage: true });

  // Delete asks to confirm.
  await page.getByRole('button', { name: 'Cancel' }).click();
  await row.getByRole('button', { name: 'Delete Welcome' }).click();
  await row.getByRole('button', { name: 'Confirm delete' }).click();
  await page.getByText('No templates yet').waitFor();
  assert.ok(!browserLog.some((l) => l.startsWith('page error')), `no page errors:\n${tail(browserLog)}`);
});
