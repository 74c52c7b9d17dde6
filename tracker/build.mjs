// Minifies tracker/vibe.js, tracker/vibe-chat.js and tracker/vibe-sw.js into
// crates/vibe-server/assets/, which the vibe binary embeds (include_bytes!), so
// that output is committed.
//
//   node build.mjs           write the outputs
//   node build.mjs --check   fail if a committed output is stale or too big
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { minify } from 'terser';

// The tracker is on every page of every site; the chat widget only where the
// project's in-app channel is enabled and its tag added; the push service
// worker only in browsers that subscribed.
const FILES = [
  { name: 'vibe.js', maxGzip: 2048 },
  { name: 'vibe-chat.js', maxGzip: 4096 },
  { name: 'vibe-sw.js', maxGzip: 1024 },
];
const check = process.argv.includes('--check');
let ok = true;

for (const { name, maxGzip } of FILES) {
  const src = new URL(`./${name}`, import.meta.url);
  const outUrl = new URL(`../crates/vibe-server/assets/${name}`, import.meta.url);
  const outName = `crates/vibe-server/assets/${name}`;
  const { code } = await minify(readFileSync(src, 'utf8'), {
    ecma: 2017,
    compress: { passes: 3, unsafe_arrows: true },
    mangle: true,
    format: { comments: false },
  });
  const out = code + '\n';
  const gz = gzipSync(out, { level: 9 }).length;
  console.log(`${outName}: ${out.length} bytes, ${gz} bytes gzipped (limit ${maxGzip})`);
  if (check) {
    let committed = null;
    try {
      committed = readFileSync(outUrl, 'utf8');
    } catch {}
    if (committed !== out) {
      console.error(`${outName} is stale: run \`npm --prefix tracker run build\` and commit it`);
      ok = false;
    }
    if (gz > maxGzip) {
      console.error(`${name} is ${gz} bytes gzipped, over the ${maxGzip}-byte budget`);
      ok = false;
    }
  } else {
    writeFileSync(outUrl, out);
  }
}
process.exit(ok ? 0 : 1);
