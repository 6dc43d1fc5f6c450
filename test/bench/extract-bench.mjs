// npm run bench: unpack throughput of `deblayer deb extract` against
// `dpkg-deb -x` on the real packages of fixtures/real-packages.txt, in the same
// run, interleaved, reported as ratios (deblayer time / dpkg-deb time).
// A third column unpacks with deblayer's library inside this process: the
// same work without Node's start-up, as the layering commands will do it for
// every package of a transaction.
//
//   node test/bench/extract-bench.mjs [--rounds N] [--layer] [--filter REGEX]

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { openDeb } from '../../dist/deb/index.js';
import { unpackLayer, unpackRaw } from '../../dist/compose/unpack.js';
import { readDebControl } from '../../dist/deb/index.js';

const root = new URL('../../', import.meta.url).pathname;
const cli = join(root, 'dist/bundle/main.js');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const rounds = Number(opt('--rounds', '3'));
const layer = args.includes('--layer');
const filter = new RegExp(opt('--filter', '.'));

const debs = execFileSync('sh', [join(root, 'test/fetch-real-debs.sh')], { encoding: 'utf8' })
  .trim()
  .split('\n')
  .filter((d) => filter.test(basename(d)));
const work = mkdtempSync(join(tmpdir(), 'deblayer-bench-'));

function timed(cmd, argv) {
  const out = join(work, 'out');
  rmSync(out, { recursive: true, force: true });
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, [...argv, out], { stdio: ['ignore', 'ignore', 'pipe'] });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed: ${r.stderr}`);
  const size = Number(execFileSync('du', ['-sb', out], { encoding: 'utf8' }).split('\t')[0]);
  rmSync(out, { recursive: true, force: true });
  return { secs, size };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
// Node's own start-up, measured the same way: the fixed cost of every deblayer call.
const startup = median(Array.from({ length: 5 }, () => {
  const t0 = process.hrtime.bigint();
  spawnSync('node', [cli, '--version'], { stdio: 'ignore' });
  return Number(process.hrtime.bigint() - t0) / 1e9;
}));

async function inProcess(deb) {
  const out = join(work, 'out');
  rmSync(out, { recursive: true, force: true });
  const t0 = process.hrtime.bigint();
  const layout = openDeb(deb);
  if (layer) await unpackLayer(layout, await readDebControl(layout), out);
  else await unpackRaw(layout, out);
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  rmSync(out, { recursive: true, force: true });
  return secs;
}

const rows = [];
try {
  for (const deb of debs) {
    const dpkg = [];
    const ours = [];
    const lib = [];
    let size = 0;
    for (let i = 0; i < rounds; i++) {
      // Alternate which goes first so that neither always gets a warm cache.
      const a = () => dpkg.push(timed('dpkg-deb', ['-x', deb]).secs);
      const b = () => {
        const r = timed('node', [cli, '-q', 'deb', 'extract', ...(layer ? ['--layer'] : []), deb]);
        ours.push(r.secs);
        size = r.size;
      };
      if (i % 2) { b(); a(); } else { a(); b(); }
      lib.push(await inProcess(deb));
    }
    rows.push({ name: basename(deb).split('_')[0], size, dpkg: median(dpkg), ours: median(ours), lib: median(lib) });
    const r = rows.at(-1);
    console.log(
      `${r.name.padEnd(42)} ${(r.size / 1e6).toFixed(1).padStart(6)} MB  dpkg-deb ${r.dpkg.toFixed(3)} s  ` +
        `deblayer ${r.ours.toFixed(3)} s (${(r.ours / r.dpkg).toFixed(2)})  in-process ${r.lib.toFixed(3)} s (${(r.lib / r.dpkg).toFixed(2)})`,
    );
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
const sum = (k) => rows.reduce((s, r) => s + r[k], 0);
const bytes = sum('size');
console.log('');
console.log(`packages: ${rows.length}, unpacked: ${(bytes / 1e6).toFixed(0)} MB, rounds: ${rounds} (median), mode: ${layer ? '--layer' : 'raw'}`);
console.log(`dpkg-deb -x total:       ${sum('dpkg').toFixed(2)} s (${(bytes / 1e6 / sum('dpkg')).toFixed(0)} MB/s)`);
console.log(`deblayer extract total:  ${sum('ours').toFixed(2)} s (${(bytes / 1e6 / sum('ours')).toFixed(0)} MB/s)`);
console.log(`ratio on the whole set:  ${(sum('ours') / sum('dpkg')).toFixed(2)} (deblayer / dpkg-deb; <= 1.0 is the target)`);
console.log(`in-process unpack total: ${sum('lib').toFixed(2)} s, ratio ${(sum('lib') / sum('dpkg')).toFixed(2)} (the unpacker without process start-up)`);
console.log(`node start-up per call:  ${startup.toFixed(3)} s, ${(startup * rows.length).toFixed(2)} s of the deblayer total`);
