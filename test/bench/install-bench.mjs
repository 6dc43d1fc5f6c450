// npm run bench:install: `deblayer install` onto a deployed real base in an
// offline sysroot, against `apt-get install` (dpkg) of the same packages into
// a plain chroot of the same base, both from a warm apt cache (the .deb files
// already downloaded), interleaved, medians and ratios (deblayer / apt-get).
//
// deblayer is timed twice a round: the first install of the round with the
// package cache cold (its commits deleted first: unpack + import + compose +
// deploy), and again after an uninstall with the package cache warm (compose +
// deploy only). Stage times come from --verbose. Also measured, each in the
// same rounds as its baseline:
//   - the naive pipeline: a copy checkout of the base, `dpkg -i` of the planned
//     .deb files in it, a full `ostree commit` of the tree, `ostree admin deploy`;
//   - the same htop install on a base with ten times more files (the base's
//     /usr copied nine times under /usr/share/bench-filler), against the small
//     base: the cost should follow the layer, not the base;
//   - `deblayer upgrade` to a new base commit with gdb strace vim layered
//     (package cache warm), against the first install of that set;
//   - htop installed (cold, warm) and uninstalled on a sysroot that already
//     layers gdb strace vim, against htop on the bare base, and apt-get's own
//     ratio for the same (htop into a chroot that has gdb strace vim).
// Runs in a private mount namespace with the sysroots on a tmpfs (ostree admin
// deploy freezes the file system it deploys to).
//
//   node test/bench/install-bench.mjs [--rounds N]

import { copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, env, extractRealBase, inPrivateMountNamespace, median, root, roundsFrom, scratch, sh, timed, tmpfsSysroot } from './common.mjs';

const args = process.argv.slice(2);
const rounds = roundsFrom(args);
inPrivateMountNamespace(import.meta.url, args);
const { work, mounts } = scratch('install-bench');

const requests = [
  { label: 'htop', pkgs: ['htop'] },
  { label: 'gdb strace vim', pkgs: ['gdb', 'strace', 'vim'] },
];

console.error('install-bench: preparing a real base, two offline sysroots and a chroot');
const tree = extractRealBase(join(work, 'tree'));
const repo = join(work, 'repo');
const cache = join(work, 'cache');
sh('node', [cli, '--repo', repo, '-q', 'base', 'import', tree, '-b', 'debian/12']);
// The big base: the same system with its /usr copied nine times more.
const bigTree = join(work, 'tree-big');
sh('cp', ['-al', tree, bigTree]);
for (let i = 1; i <= 9; i++) sh('cp', ['-al', join(tree, 'usr'), join(bigTree, `usr/share/bench-filler-${i}`)]);
sh('node', [cli, '--repo', repo, '-q', 'base', 'import', bigTree, '-b', 'debian/12-big']);
const countFiles = (ref) => sh('ostree', [`--repo=${repo}`, 'ls', '-R', ref]).split('\n').filter(Boolean).length;
const [smallFiles, bigFiles] = [countFiles('debian/12'), countFiles('debian/12-big')];

const makeSysroot = (name, ref) => tmpfsSysroot(join(work, name), mounts, repo, ref, '6g');
const sysroot = makeSysroot('sysroot', 'debian/12');
const bigSysroot = makeSysroot('sysroot-big', 'debian/12-big');
const layeredSysroot = makeSysroot('sysroot-layered', 'debian/12');
const deblayerOn = (root_) => (...a) => ['node', [cli, '--sysroot', root_, '--cache-dir', cache, ...a]];
const deblayer = deblayerOn(sysroot);
const deblayerBig = deblayerOn(bigSysroot);
const deblayerLayered = deblayerOn(layeredSysroot);
for (const r of requests) sh(...deblayer('-q', 'install', '--download-only', ...r.pkgs));
const debs = join(cache, 'archives');
const planned = Object.fromEntries(
  requests.map((r) => [r.label, JSON.parse(sh(...deblayer("--json", "install", "--dry-run", ...r.pkgs))).packages.map((p) => p.name)]),
);
const debOf = (name) => {
  const f = readdirSync(debs).find((n) => n.startsWith(`${name}_`) && n.endsWith('.deb'));
  if (!f) throw new Error(`no .deb of ${name} in ${debs}`);
  return join(debs, f);
};

// The chroot side: the same tree, its lists fetched once, the same .deb files in its apt cache.
const pristine = join(work, 'chroot-pristine');
sh('cp', ['-a', tree, pristine]);
rmSync(join(pristine, 'etc/resolv.conf'), { force: true });
copyFileSync('/etc/resolv.conf', join(pristine, 'etc/resolv.conf'));
sh('chroot', [pristine, 'apt-get', 'update', '-qq']);
for (const f of readdirSync(debs).filter((n) => n.endsWith('.deb'))) copyFileSync(join(debs, f), join(pristine, 'var/cache/apt/archives', f));

// A large layered set on both sides, set up once: gdb strace vim in the layered
// sysroot (deblayer) and in a chroot (apt-get); htop then goes on top of it.
const largeSet = requests[1].pkgs;
sh(...deblayerLayered('-q', 'install', '-y', '--cache-only', ...largeSet));
const pristineLayered = join(work, 'chroot-pristine-layered');
sh('cp', ['-a', pristine, pristineLayered]);
sh('chroot', [pristineLayered, 'apt-get', 'install', '-y', '-qq', '--no-download', ...largeSet]);

function dropPackageCache(root_) {
  for (const ref of sh('ostree', [`--repo=${root_}/ostree/repo`, 'refs', 'deblayer/pkg']).split('\n').filter(Boolean)) {
    sh('ostree', [`--repo=${root_}/ostree/repo`, 'refs', '--delete', `deblayer/pkg/${ref}`]);
  }
  rmSync(join(cache, 'packages'), { recursive: true, force: true });
}

// The naive pipeline, timed as a whole: copy checkout, dpkg -i, full commit, deploy.
function naive(label) {
  const repoPath = `${sysroot}/ostree/repo`;
  const dir = join(sysroot, 'naive');
  const start = process.hrtime.bigint();
  sh('ostree', [`--repo=${repoPath}`, 'checkout', '--force-copy', 'debian/12', dir]);
  // dpkg expects /etc, /var/lib/dpkg and debconf's cache; the commit has them in /usr.
  sh('ln', ['-s', 'usr/etc', join(dir, 'etc')]);
  for (const d of ['var/lib', 'var/cache', 'var/log', 'tmp']) mkdirSync(join(dir, d), { recursive: true });
  sh('ln', ['-s', '../../usr/lib/sysimage/dpkg', join(dir, 'var/lib/dpkg')]);
  sh('ln', ['-s', '../../usr/lib/sysimage/debconf', join(dir, 'var/cache/debconf')]);
  mkdirSync(join(dir, 'tmp/debs'), { recursive: true });
  const files = planned[label].map((n) => { const f = debOf(n); copyFileSync(f, join(dir, 'tmp/debs', f.split('/').pop())); return `/tmp/debs/${f.split('/').pop()}`; });
  sh('chroot', [dir, 'dpkg', '-i', '--force-confdef', ...files], { env: { ...env, DEBIAN_FRONTEND: 'noninteractive' } });
  rmSync(join(dir, 'tmp/debs'), { recursive: true });
  rmSync(join(dir, 'etc'));
  rmSync(join(dir, 'var'), { recursive: true });
  mkdirSync(join(dir, 'var'));
  const commit = sh('ostree', [`--repo=${repoPath}`, 'commit', '--branch=bench/naive', `--tree=dir=${dir}`, '-s', 'naive']).trim();
  sh('ostree', ['admin', 'deploy', `--sysroot=${sysroot}`, '--os=debian', commit]);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  // Undo: the naive deployment goes, the booted-like order is restored.
  sh('ostree', ['admin', 'undeploy', `--sysroot=${sysroot}`, '0']);
  sh('ostree', [`--repo=${repoPath}`, 'refs', '--delete', 'bench/naive']);
  rmSync(dir, { recursive: true, force: true });
  return seconds;
}

const stagesOf = (stderr, into) => {
  // Stage durations from --verbose ("  import: 1.23 s").
  for (const m of stderr.matchAll(/^ {2}(\w+): ([\d.]+) s$/gm)) (into[m[1]] ??= []).push(Number(m[2]));
};
const results = Object.fromEntries(requests.map((r) => [r.label, { cold: [], warm: [], apt: [], naive: [], stages: {}, warmStages: {} }]));
const big = { cold: [], warm: [], stages: {} };
// htop on top of the large layered set: install cold and warm, and its uninstall; apt-get the same on its chroot.
const onLarge = { cold: [], warm: [], uninstall: [], apt: [], stages: {}, uninstallStages: {} };
for (let round = 1; round <= rounds; round++) {
  console.error(`install-bench: round ${round}/${rounds}`);
  for (const r of requests) {
    const res = results[r.label];
    // apt-get into a fresh copy of the chroot (the copy is not timed).
    const chroot = join(work, 'chroot');
    rmSync(chroot, { recursive: true, force: true });
    sh('cp', ['-a', pristine, chroot]);
    // The copy's dirty pages are written back now, not during the timed runs (dpkg and ostree both sync).
    sh('sync', []);
    res.apt.push(timed('chroot', [chroot, 'apt-get', 'install', '-y', '-qq', '--no-download', ...r.pkgs]).seconds);
    res.naive.push(naive(r.label));
    // deblayer, package cache cold: delete the package commits first.
    dropPackageCache(sysroot);
    const cold = timed(...deblayer('-v', 'install', '-y', '--cache-only', ...r.pkgs));
    res.cold.push(cold.seconds);
    stagesOf(cold.stderr, res.stages);
    sh(...deblayer('-q', 'uninstall', '--cache-only', ...r.pkgs));
    const warm = timed(...deblayer('-v', 'install', '-y', '--cache-only', ...r.pkgs));
    res.warm.push(warm.seconds);
    stagesOf(warm.stderr, res.warmStages);
    sh(...deblayer('-q', 'uninstall', '--cache-only', ...r.pkgs));
    if (r.label === 'htop') {
      // The same install on the big base, right after the small one.
      dropPackageCache(bigSysroot);
      const c = timed(...deblayerBig('-v', 'install', '-y', '--cache-only', ...r.pkgs));
      big.cold.push(c.seconds);
      stagesOf(c.stderr, big.stages);
      sh(...deblayerBig('-q', 'uninstall', '--cache-only', ...r.pkgs));
      big.warm.push(timed(...deblayerBig('-v', 'install', '-y', '--cache-only', ...r.pkgs)).seconds);
      sh(...deblayerBig('-q', 'uninstall', '--cache-only', ...r.pkgs));
      largeRound(r.pkgs);
    }
  }
}

function largeRound(pkgs) {
  const chroot = join(work, 'chroot');
  rmSync(chroot, { recursive: true, force: true });
  sh('cp', ['-a', pristineLayered, chroot]);
  sh('sync', []);
  onLarge.apt.push(timed('chroot', [chroot, 'apt-get', 'install', '-y', '-qq', '--no-download', ...pkgs]).seconds);
  dropPackageCache(layeredSysroot);
  const cold = timed(...deblayerLayered('-v', 'install', '-y', '--cache-only', ...pkgs));
  onLarge.cold.push(cold.seconds);
  stagesOf(cold.stderr, onLarge.stages);
  const u = timed(...deblayerLayered('-v', 'uninstall', '--cache-only', ...pkgs));
  onLarge.uninstall.push(u.seconds);
  stagesOf(u.stderr, onLarge.uninstallStages);
  onLarge.warm.push(timed(...deblayerLayered('-v', 'install', '-y', '--cache-only', ...pkgs)).seconds);
  sh(...deblayerLayered('-q', 'uninstall', '--cache-only', ...pkgs));
}

// Re-layering after an upgrade: gdb strace vim installed (cache cold, timed),
// then a new base commit on the branch and `deblayer upgrade` (cache warm, timed).
const relayer = { first: [], upgrade: [], nothing: [], stages: {} };
const setPkgs = requests[1].pkgs;
for (let round = 1; round <= rounds; round++) {
  console.error(`install-bench: upgrade round ${round}/${rounds}`);
  dropPackageCache(sysroot);
  relayer.first.push(timed(...deblayer('-v', 'install', '-y', '--cache-only', ...setPkgs)).seconds);
  writeFileSync(join(tree, 'usr/share/bench-upgrade'), `round ${round}\n`);
  sh('node', [cli, '--repo', repo, '-q', 'base', 'import', tree, '-b', 'debian/12']);
  sh('ostree', [`--repo=${sysroot}/ostree/repo`, 'pull-local', repo, 'debian/12']);
  const u = timed(...deblayer('-v', 'upgrade', '--cache-only'));
  relayer.upgrade.push(u.seconds);
  stagesOf(u.stderr, relayer.stages);
  // Nothing new: neither the base nor a layered package moved (the lists are fetched already).
  relayer.nothing.push(timed(...deblayer('-q', 'upgrade', '--cache-only')).seconds);
  sh(...deblayer('-q', 'uninstall', '--cache-only', ...setPkgs));
}

const f2 = (x) => x.toFixed(2);
const stageText = (stages) => Object.entries(stages).map(([k, v]) => `${k} ${f2(median(v))}`).join(', ');
console.log(`install: deblayer install vs apt-get install in a chroot of the same base, and vs the naive pipeline; warm apt cache, medians of ${rounds} rounds`);
console.log('request          apt-get s  naive s  deblayer cold s  /apt  /naive  deblayer warm s  /apt  /naive');
for (const r of requests) {
  const res = results[r.label];
  const [apt, nv, cold, warm] = [median(res.apt), median(res.naive), median(res.cold), median(res.warm)];
  console.log(
    `${r.label.padEnd(15)}  ${f2(apt).padStart(9)}  ${f2(nv).padStart(7)}  ${f2(cold).padStart(15)}  ${f2(cold / apt).padStart(4)}  ${f2(cold / nv).padStart(6)}  ${f2(warm).padStart(15)}  ${f2(warm / apt).padStart(4)}  ${f2(warm / nv).padStart(6)}`,
  );
  console.log(`  stages, cold: ${stageText(res.stages)}`);
  console.log(`  stages, warm: ${stageText(res.warmStages)}`);
}
const smallCold = median(results.htop.cold);
const smallWarm = median(results.htop.warm);
console.log(`big base: ${bigFiles} paths against ${smallFiles} (${f2(bigFiles / smallFiles)}x); install htop there / on the small base: cold ${f2(median(big.cold))} s / ${f2(smallCold)} s = ${f2(median(big.cold) / smallCold)}, warm ${f2(median(big.warm))} s / ${f2(smallWarm)} s = ${f2(median(big.warm) / smallWarm)}`);
console.log(`  stages on the big base, cold: ${stageText(big.stages)}`);
const [lc, lw, lu, la] = [median(onLarge.cold), median(onLarge.warm), median(onLarge.uninstall), median(onLarge.apt)];
const smallApt = median(results.htop.apt);
console.log(`htop on top of gdb strace vim layered / on the bare base: cold ${f2(lc)} s / ${f2(smallCold)} s = ${f2(lc / smallCold)}, warm ${f2(lw)} s / ${f2(smallWarm)} s = ${f2(lw / smallWarm)}; apt-get's own: ${f2(la)} s / ${f2(smallApt)} s = ${f2(la / smallApt)}`);
console.log(`  against apt-get on the same layered chroot: cold ${f2(lc / la)}, warm ${f2(lw / la)}`);
console.log(`  stages, cold: ${stageText(onLarge.stages)}`);
console.log(`uninstall htop from that sysroot / its install (warm): ${f2(lu)} s / ${f2(lw)} s = ${f2(lu / lw)}; stages: ${stageText(onLarge.uninstallStages)}`);
console.log(`re-layering gdb strace vim after an upgrade: first install ${f2(median(relayer.first))} s, upgrade ${f2(median(relayer.upgrade))} s: ${f2(median(relayer.first) / median(relayer.upgrade))}x faster`);
console.log(`  stages of the upgrade: ${stageText(relayer.stages)}`);
console.log(`upgrade with nothing new: ${f2(median(relayer.nothing))} s (${f2(median(relayer.nothing) / median(relayer.upgrade))} of an upgrade to a new base)`);
