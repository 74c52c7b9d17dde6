// Dashboard performance in Chromium against a running `vibe serve`:
//  1. first render of the overview (cards, chart, funnel, people table) for the
//     "Demo shop" project, cold cache then warm, 5 runs each;
//  2. the online table with N live visitors (sent through /collect into a fresh
//     project): rows in the DOM, and frame times while scrolling it.
// Used by bench/dashboard.sh; prints Markdown.
//   node bench/dashboard.mjs http://127.0.0.1:18485 email password [visitors]
import { createRequire } from 'node:module';
import { randomUUID } from 'node:crypto';

const require = createRequire(new URL('../e2e/package.json', import.meta.url));
const { chromium } = require('playwright-core');

const [base, email, password, visitorsArg] = process.argv.slice(2);
const VISITORS = Number(visitorsArg ?? 5000);
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';

const login = await fetch(`${base}/api/v1/auth/login`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ email, password }),
});
const cookie = login.headers.getSetCookie().find((c) => c.startsWith('vibe_session=')).split(';')[0];
const api = async (method, path, body) =>
  (await fetch(base + path, { method, headers: { cookie, 'content-type': 'application/json' }, body: body && JSON.stringify(body) })).json();
const projects = (await api('GET', '/api/v1/projects')).projects;
const demo = projects.find((p) => p.name === 'Demo shop');

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});
const [name, value] = cookie.split('=');
const host = new URL(base).hostname;

// Milliseconds from navigation start (performance.now() in the page) until each
// part of the overview is first in the DOM, recorded by a MutationObserver.
const PARTS = {
  cards: '[data-testid=metric-total_users] .metric-value',
  chart: '.recharts-surface',
  table: '[data-testid=online-table], [aria-label=People] .empty',
  funnel: '[data-testid=funnel-step], .funnel-card .empty',
};

async function firstRender(projectId, warm) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.addCookies([{ name, value, domain: host, path: '/' }]);
  await context.addInitScript(([id, parts]) => {
    localStorage.setItem('vibe.project', id);
    window.__marks = {};
    new MutationObserver(() => {
      for (const [k, sel] of Object.entries(parts)) {
        if (!window.__marks[k] && document.querySelector(sel)) window.__marks[k] = Math.round(performance.now());
      }
    }).observe(document, { childList: true, subtree: true });
  }, [projectId, PARTS]);
  const page = await context.newPage();
  if (warm) await page.goto(base + '/', { waitUntil: 'networkidle' });
  await page.goto(base + '/');
  await page.waitForFunction((n) => Object.keys(window.__marks).length === n, Object.keys(PARTS).length, { timeout: 30_000 });
  const at = await page.evaluate(() => window.__marks);
  await context.close();
  return at;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`### First render of the overview (${demo ? 'Demo shop' : 'first project'})\n`);
console.log('| cache | cards ms | chart ms | people table ms | funnel ms | all ms |');
console.log('|---|---|---|---|---|---|');
for (const warm of [false, true]) {
  const runs = [];
  for (let i = 0; i < 5; i++) runs.push(await firstRender((demo ?? projects[0]).id, warm));
  const m = (k) => median(runs.map((r) => r[k]));
  const all = median(runs.map((r) => Math.max(r.cards, r.chart, r.table, r.funnel)));
  console.log(`| ${warm ? 'warm' : 'cold'} | ${m('cards')} | ${m('chart')} | ${m('table')} | ${m('funnel')} | ${all} |`);
}

// N visitors online: one page view each, in batches of 500.
const project = await api('POST', '/api/v1/projects', { name: `bench-${Date.now()}` });
for (let i = 0; i < VISITORS; i += 500) {
  const batch = [];
  for (let j = i; j < Math.min(VISITORS, i + 500); j++) {
    batch.push({ type: 'pageview', id: randomUUID(), anonymous_id: `bench-${j}`, session_id: `bench-s-${j}`, url: `https://shop.example/p/${j % 50}` });
  }
  const res = await fetch(`${base}/api/v1/collect`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain', 'user-agent': UA },
    body: JSON.stringify({ key: project.write_key, batch }),
  });
  if (res.status !== 202) throw new Error(`collect: ${res.status} ${await res.text()}`);
}
const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
await context.addCookies([{ name, value, domain: host, path: '/' }]);
await context.addInitScript((id) => localStorage.setItem('vibe.project', id), project.id);
const page = await context.newPage();
const started = Date.now();
await page.goto(base + '/');
await page.getByRole('heading', { name: `Online now (${VISITORS})` }).waitFor({ timeout: 60_000 });
const tableMs = Date.now() - started;
const result = await page.evaluate(async () => {
  const scroller = document.querySelector('[data-testid=online-table] .vscroll');
  const rows = () => document.querySelectorAll('[data-testid=visitor-row]').length;
  const before = rows();
  const frames = [];
  let last = performance.now();
  const end = scroller.scrollHeight - scroller.clientHeight;
  // Scroll top to bottom in 120 animation frames, as a fast flick would.
  for (let i = 1; i <= 120; i++) {
    await new Promise((r) => requestAnimationFrame(r));
    const now = performance.now();
    frames.push(now - last);
    last = now;
    scroller.scrollTop = (end * i) / 120;
  }
  frames.sort((a, b) => a - b);
  return { before, after: rows(), p50: frames[60], p95: frames[114], max: frames[119] };
});
console.log(`\n### ${VISITORS} visitors online\n`);
console.log(`| table shown ms | rows in DOM (top) | rows in DOM (bottom) | frame p50 ms | frame p95 ms | frame max ms |`);
console.log('|---|---|---|---|---|---|');
console.log(`| ${tableMs} | ${result.before} | ${result.after} | ${result.p50.toFixed(1)} | ${result.p95.toFixed(1)} | ${result.max.toFixed(1)} |`);
await browser.close();
