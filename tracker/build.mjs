// Minifies tracker/vibe.js into crates/vibe-server/assets/vibe.js, which the vibe
// binary embeds (include_bytes!), so that output is committed.
//
//   node build.mjs           write the output
//   node build.mjs --check   fail if the committed output is stale or too big
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { minify } from 'terser';

const SRC = new URL('./vibe.js', import.meta.url);
const OUT = new URL('../crates/vibe-server/assets/vibe.js', import.meta.url);
const OUT_NAME = 'crates/vibe-server/assets/vibe.js';
const MAX_GZIP = 2048;

const { code } = await minify(readFileSync(SRC, 'utf8'), {
  ecma: 2017,
  compress: { passes: 3, unsafe_arrows: true },
  mangle: true,
  format: { comments: false },
});
const out = code + '\n';
const gz = gzipSync(out, { level: 9 }).length;
console.log(`${OUT_NAME}: ${out.length} bytes, ${gz} bytes gzipped (limit ${MAX_GZIP})`);

if (process.argv.includes('--check')) {
  let committed = null;
  try {
    committed = readFileSync(OUT, 'utf8');
  } catch {}
  let ok = true;
  if (committed !== out) {
    console.error(`${OUT_NAME} is stale: run \`npm --prefix tracker run build\` and commit it`);
    ok = false;
  }
  if (gz > MAX_GZIP) {
    console.error(`vibe.js is ${gz} bytes gzipped, over the ${MAX_GZIP}-byte budget`);
    ok = false;
  }
  process.exit(ok ? 0 : 1);
} else {
  writeFileSync(OUT, out);
}
