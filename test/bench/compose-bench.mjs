// npm run bench:compose: `deblayer compose` of a manifest with 30 packages on
// the real Debian 12 base, against the naive way to the same kind of commit:
// mmdebstrap of the base with those packages included, then a full `ostree
// commit` of the tree into a fresh repository. Both sides have every .deb
// file locally (apt's archive cache for deblayer, mmdebstrap's documented
// sync-in cache for mmdebstrap); mmdebstrap still fetches the package lists
// each run, as a builder's job does. deblayer runs cold (its package cache
// emptied: unpack and import every package) and warm (compose and maintainer
// scripts only). Interleaved rounds, medians and ratios (deblayer / naive).
//
//   node test/bench/compose-bench.mjs [--rounds N]

import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, median, root, roundsFrom, scratch, sh, timed } from './common.mjs';

const PACKAGES = [
  'bzip2', 'ca-certificates', 'curl', 'bind9-dnsutils', 'ethtool', 'file', 'htop', 'iproute2', 'iputils-ping', 'jq',
  'less', 'logrotate', 'lsof', 'netcat-openbsd', 'nginx-light', 'procps', 'psmisc', 'rsync', 'socat', 'strace',
  'sysstat', 'tcpdump', 'tmux', 'tree', 'unzip', 'vim-tiny', 'wget', 'xz-utils', 'zip', 'zstd',
];
const MIRROR = 'http://deb.debian.org/debian';

const args = process.argv.slice(2);
const rounds = roundsFrom(args);
const { work } = scratch('compose-bench');
const tarball = execFileSync('sh', [join(root, 'test/make-real-base.sh')], { encoding: 'utf8' }).trim();
const repo = join(work, 'repo');
const cache = join(work, 'cache');
const manifest = join(work, 'bench.layer');
writeFileSync(manifest, `Base: debian/12\nBranch: bench/compose\nPackages: ${PACKAGES.join(', ')}\n`);

console.error(`compose-bench: importing the real base, warming both download caches (${PACKAGES.length} packages)`);
sh('node', [cli, '--repo', repo, '-q', 'base', 'import', tarball, '-b', 'debian/12', '--no-kernel']);
const deblayer = (...a) => ['node', [cli, '--repo', repo, '--cache-dir', cache, ...a]];
sh(...deblayer('-q', 'compose', manifest));
const resolved = JSON.parse(sh(...deblayer('--json', 'compose', manifest))).plan.packages.length;
const mmCache = join(work, 'mmdebstrap-cache');
mkdirSync(mmCache);
// mmdebstrap's caching recipe: debs copied in before, kept (not emptied), copied out after.
const mmdebstrap = (dir) => [
  'mmdebstrap',
  ['--variant=minbase', '--quiet', `--include=systemd-sysv,${PACKAGES.join(',')}`, '--skip=download/empty',
    '--setup-hook=mkdir -p "$1"/var/cache/apt/archives', `--setup-hook=sync-in ${mmCache} /var/cache/apt/archives/`,
    `--customize-hook=sync-out /var/cache/apt/archives ${mmCache}`,
    'bookworm', dir, MIRROR],
];
sh(...mmdebstrap(join(work, 'warmup')));
rmSync(join(work, 'warmup'), { recursive: true, force: true });

function naive(round) {
  const dir = join(work, `naive-${round}`);
  const naiveRepo = join(work, `naive-repo-${round}`);
  sh('ostree', [`--repo=${naiveRepo}`, 'init', '--mode=bare']);
  const start = process.hrtime.bigint();
  sh(...mmdebstrap(dir));
  // mmdebstrap leaves device nodes in /dev, which an OSTree commit cannot hold.
  sh('find', [join(dir, 'dev'), '-mindepth', '1', '-delete']);
  sh('ostree', [`--repo=${naiveRepo}`, 'commit', '--branch=naive', `--tree=dir=${dir}`, '-s', 'naive']);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  rmSync(dir, { recursive: true, force: true });
  rmSync(naiveRepo, { recursive: true, force: true });
  return seconds;
}

/** A build that must happen: the branch's commit goes first, or compose finds nothing changed. */
function dropBranch() {
  sh('ostree', [`--repo=${repo}`, 'refs', '--delete', 'bench/compose']);
}
function dropPackageCache() {
  for (const ref of sh('ostree', [`--repo=${repo}`, 'refs', 'deblayer/pkg']).split('\n').filter(Boolean)) {
    sh('ostree', [`--repo=${repo}`, 'refs', '--delete', `deblayer/pkg/${ref}`]);
  }
  sh('ostree', [`--repo=${repo}`, 'prune', '--refs-only']);
  rmSync(join(cache, 'packages'), { recursive: true, force: true });
}
const stagesOf = (stderr, into) => {
  for (const m of stderr.matchAll(/^ {2}(\w+): ([\d.]+) s$/gm)) (into[m[1]] ??= []).push(Number(m[2]));
};

const r = { naive: [], cold: [], warm: [], coldStages: {}, warmStages: {} };
for (let round = 1; round <= rounds; round++) {
  console.error(`compose-bench: round ${round}/${rounds}`);
  r.naive.push(naive(round));
  dropBranch();
  dropPackageCache();
  const cold = timed(...deblayer('-v', 'compose', '--cache-only', manifest));
  r.cold.push(cold.seconds);
  stagesOf(cold.stderr, r.coldStages);
  dropBranch();
  const warm = timed(...deblayer('-v', 'compose', '--cache-only', manifest));
  r.warm.push(warm.seconds);
  stagesOf(warm.stderr, r.warmStages);
}
if (readdirSync(work).some((n) => n.startsWith('naive-'))) throw new Error('a naive build was left behind');

const f2 = (x) => x.toFixed(2);
const stageText = (stages) => Object.entries(stages).map(([k, v]) => `${k} ${f2(median(v))}`).join(', ');
const [nv, cold, warm] = [median(r.naive), median(r.cold), median(r.warm)];
console.log(`compose: deblayer compose of ${PACKAGES.length} requested packages (${resolved} resolved) on the real Debian 12 base vs mmdebstrap --include + full ostree commit; .deb files local on both sides, medians of ${rounds} rounds`);
console.log('naive s  deblayer cold s  /naive  deblayer warm s  /naive');
console.log(`${f2(nv).padStart(7)}  ${f2(cold).padStart(15)}  ${f2(cold / nv).padStart(6)}  ${f2(warm).padStart(15)}  ${f2(warm / nv).padStart(6)}`);
console.log(`  stages, cold: ${stageText(r.coldStages)}`);
console.log(`  stages, warm: ${stageText(r.warmStages)}`);
