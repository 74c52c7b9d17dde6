// Prints the gzipped size of every built asset and of the JavaScript the first
// screen loads (the entry chunk and its static imports, from index.html).
// Run after `npm run build`: `npm run size`. Fails above the 300 KB budget.
import { readFileSync, readdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';

const dist = new URL('../dist/', import.meta.url).pathname;
const assets = readdirSync(join(dist, 'assets'));
const gz = (file) => gzipSync(readFileSync(join(dist, 'assets', file)), { level: 9 }).length;
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;

const index = readFileSync(join(dist, 'index.html'), 'utf8');
const first = new Set([...index.matchAll(/assets\/([^"]+\.js)/g)].map((m) => m[1]));
// Static imports of the entry are fetched before the first render too.
for (const file of [...first]) {
  const src = readFileSync(join(dist, 'assets', file), 'utf8');
  for (const m of src.matchAll(/from"\.\/([^"]+\.js)"/g)) first.add(m[1]);
}

let firstTotal = 0;
for (const file of assets.sort()) {
  const size = gz(file);
  const isFirst = first.has(file);
  if (isFirst) firstTotal += size;
  console.log(`${file.padEnd(34)} ${kb(size).padStart(10)} gzip${isFirst ? '  (first screen)' : ''}`);
}
const allJs = assets.filter((f) => f.endsWith('.js')).reduce((n, f) => n + gz(f), 0);
console.log(`first-screen JavaScript: ${kb(firstTotal)} gzip (budget 300 KB)`);
console.log(`all JavaScript (overview incl. the lazily loaded chart): ${kb(allJs)} gzip`);
if (firstTotal > 300 * 1024) process.exit(1);
