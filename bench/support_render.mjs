// First render of the Support page (issue 13 item 8) in headless Chromium
// against a running `vibe serve` with the embedded dashboard: milliseconds
// from navigation start (performance.now() in the page) until the KPI strip
// shows its five figures, and until every section of the page has its data
// (no skeleton, not busy), recorded by a MutationObserver. Cold (a fresh
// browser context) and warm (the page loaded once before), 5 runs each, as
// the owner and as agent0@example.com. Used by bench/support.sh; prints
// Markdown.
//   node bench/support_render.mjs http://127.0.0.1:18486 PROJECT_ID [RUNS]
// Sign-in: VIBE_ADMIN_EMAIL/VIBE_ADMIN_PASSWORD (default bench@example.com /
// bench-password); the agent has the same password.
import { createRequire } from 'node:module';

const require = createRequire(new URL('../e2e/package.json', import.meta.url));
const { chromium } = require('playwright-core');

const [base, projectId, runsArg] = process.argv.slice(2);
const RUNS = Number(runsArg ?? 5);
const owner = process.env.VIBE_ADMIN_EMAIL ?? 'bench@example.com';
const password = process.env.VIBE_ADMIN_PASSWORD ?? 'bench-password';

async function sessionCookie(email) {
  const login = await fetch(`${base}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: base },
    body: JSON.stringify({ email, password }),
  });
  if (login.status !== 200) throw new Error(`login ${email}: ${login.status}`);
  return login.headers.getSetCookie().find((c) => c.startsWith('vibe_session=')).split(';')[0];
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});

// The page's own markers (web/src/screens/Support.tsx, components/support):
// the strip `kpi-strip` with a card per figure, busy while loading; each
// section a `section.support-section`, a skeleton until its data is there.
function observe(projectId) {
  localStorage.setItem('vibe.project', projectId);
  window.__marks = {};
  const loaded = (el) => el && !el.querySelector('.skeleton, [aria-busy=true]') && el.getAttribute('aria-busy') !== 'true';
  const check = () => {
    const m = window.__marks;
    const strip = document.querySelector('[data-testid=kpi-strip]');
    if (!m.kpi && loaded(strip) && strip.querySelectorAll('.kpi .metric-value').length >= 5) m.kpi = Math.round(performance.now());
    const sections = [...document.querySelectorAll('section.support-section')];
    if (!m.sections && sections.length >= 5 && sections.every(loaded)) {
      m.sections = Math.round(performance.now());
      m.count = sections.length;
      m.errors = document.querySelectorAll('.support-section [role=alert]').length;
    }
  };
  new MutationObserver(check).observe(document, { childList: true, subtree: true, attributes: true, attributeFilter: ['aria-busy', 'class'] });
}

async function firstRender(cookie, warm) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const [name, value] = cookie.split('=');
  await context.addCookies([{ name, value, url: base }]);
  await context.addInitScript(observe, projectId);
  const page = await context.newPage();
  if (warm) await page.goto(base + '/support', { waitUntil: 'networkidle' });
  await page.goto(base + '/support');
  await page.waitForFunction(() => window.__marks.kpi && window.__marks.sections, null, { timeout: 60_000 });
  const at = await page.evaluate(() => window.__marks);
  await context.close();
  return at;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log('| who | cache | KPI strip ms (median) | all sections ms (median) | all sections ms (max) | sections | errors |');
console.log('|---|---|---|---|---|---|---|');
for (const [who, email] of [['owner', owner], ['agent', 'agent0@example.com']]) {
  const cookie = await sessionCookie(email);
  for (const warm of [false, true]) {
    const runs = [];
    for (let i = 0; i < RUNS; i++) runs.push(await firstRender(cookie, warm));
    const all = runs.map((r) => r.sections);
    console.log(`| ${who} | ${warm ? 'warm' : 'cold'} | ${median(runs.map((r) => r.kpi))} | ${median(all)} | ${Math.max(...all)} | ${runs[0].count} | ${Math.max(...runs.map((r) => r.errors))} |`);
  }
}
await browser.close();
