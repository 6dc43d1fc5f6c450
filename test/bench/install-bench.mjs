// npm run bench:install: `deblayer install` onto a deployed real base in an
// offline sysroot, against `apt-get install` (dpkg) of the same packages into
// a plain chroot of the same base, both from a warm apt cache (the .deb files
// already downloaded), interleaved, medians and ratios (deblayer / apt-get).
//
// deblayer is timed twice a round: the first install of the round with the
// package cache cold (its commits deleted first: unpack + import + compose +
// deploy), and again after an uninstall with the package cache warm (compose +
// deploy only: what re-layering after an upgrade costs). Stage times come from
// --verbose. Runs in a private mount namespace with the sysroot on a tmpfs
// (ostree admin deploy freezes the file system it deploys to).
//
//   node test/bench/install-bench.mjs [--rounds N]

import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../../', import.meta.url).pathname;
const cli = join(root, 'dist/cli/main.js');
const args = process.argv.slice(2);
const rounds = Number(args[args.indexOf('--rounds') + 1] ?? 3) || 3;

if (!process.env.DEBLAYER_BENCH_PRIVATE_NS) {
  // Re-run inside a private mount namespace: the tmpfs sysroot vanishes with it.
  const r = spawnSync('unshare', ['--mount', '--propagation', 'private', process.execPath, new URL(import.meta.url).pathname, ...args], {
    stdio: 'inherit',
    env: { ...process.env, DEBLAYER_BENCH_PRIVATE_NS: '1' },
  });
  process.exit(r.status ?? 1);
}

const env = { ...process.env, LC_ALL: 'C' };
const work = mkdtempSync(join(tmpdir(), 'deblayer-install-bench-'));
const cleanup = () => {
  spawnSync('umount', ['--lazy', join(work, 'sysroot')]);
  rmSync(work, { recursive: true, force: true });
};
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

function sh(cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, { env, encoding: 'utf8', maxBuffer: 1 << 26, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status}):\n${r.stderr}\n${r.stdout}`);
  return r.stdout;
}
function timed(cmd, argv) {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, argv, { env, encoding: 'utf8', maxBuffer: 1 << 26 });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status}):\n${r.stderr}`);
  return { seconds, stderr: r.stderr };
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const requests = [
  { label: 'htop', pkgs: ['htop'] },
  { label: 'gdb strace vim', pkgs: ['gdb', 'strace', 'vim'] },
];

console.error('install-bench: preparing a real base, an offline sysroot and a chroot');
const tarball = execFileSync('sh', [join(root, 'test/make-real-base.sh')], { encoding: 'utf8' }).trim();
const tree = join(work, 'tree');
mkdirSync(tree);
sh('tar', ['--numeric-owner', '-xpf', tarball, '-C', tree]);
// A stand-in kernel so that ostree admin deploy accepts the base.
writeFileSync(join(tree, 'boot/vmlinuz-6.1.0-0-bench'), 'x\n');
writeFileSync(join(tree, 'boot/initrd.img-6.1.0-0-bench'), 'x\n');
mkdirSync(join(tree, 'usr/lib/modules/6.1.0-0-bench'), { recursive: true });
const repo = join(work, 'repo');
const cache = join(work, 'cache');
sh('node', [cli, '--repo', repo, '-q', 'base', 'import', tree, '-b', 'debian/12']);
const sysroot = join(work, 'sysroot');
mkdirSync(sysroot);
sh('mount', ['-t', 'tmpfs', '-o', 'size=4g', 'tmpfs', sysroot]);
sh('ostree', ['admin', 'init-fs', sysroot]);
sh('ostree', ['admin', 'os-init', 'debian', `--sysroot=${sysroot}`]);
sh('ostree', [`--repo=${sysroot}/ostree/repo`, 'pull-local', repo, 'debian/12']);
sh('ostree', ['admin', 'deploy', `--sysroot=${sysroot}`, '--os=debian', 'debian/12']);
const deblayer = (...a) => ['node', [cli, '--sysroot', sysroot, '--cache-dir', cache, ...a]];
for (const r of requests) sh(...deblayer('-q', 'install', '--download-only', ...r.pkgs));
const debs = join(cache, 'archives');

// The chroot side: the same tree, its lists fetched once, the same .deb files in its apt cache.
const pristine = join(work, 'chroot-pristine');
sh('cp', ['-a', tree, pristine]);
rmSync(join(pristine, 'etc/resolv.conf'), { force: true });
copyFileSync('/etc/resolv.conf', join(pristine, 'etc/resolv.conf'));
sh('chroot', [pristine, 'apt-get', 'update', '-qq']);
for (const f of readdirSync(debs).filter((n) => n.endsWith('.deb'))) copyFileSync(join(debs, f), join(pristine, 'var/cache/apt/archives', f));

const results = Object.fromEntries(requests.map((r) => [r.label, { cold: [], warm: [], apt: [], stages: {} }]));
for (let round = 1; round <= rounds; round++) {
  console.error(`install-bench: round ${round}/${rounds}`);
  for (const r of requests) {
    const res = results[r.label];
    // apt-get into a fresh copy of the chroot (the copy is not timed).
    const chroot = join(work, 'chroot');
    rmSync(chroot, { recursive: true, force: true });
    sh('cp', ['-a', pristine, chroot]);
    res.apt.push(timed('chroot', [chroot, 'apt-get', 'install', '-y', '-qq', '--no-download', ...r.pkgs]).seconds);
    // deblayer, package cache cold: delete the package commits first.
    for (const ref of sh('ostree', [`--repo=${sysroot}/ostree/repo`, 'refs', 'deblayer/pkg']).split('\n').filter(Boolean)) {
      sh('ostree', [`--repo=${sysroot}/ostree/repo`, 'refs', '--delete', `deblayer/pkg/${ref}`]);
    }
    const cold = timed(...deblayer('-v', 'install', '-y', '--cache-only', ...r.pkgs));
    res.cold.push(cold.seconds);
    sh(...deblayer('-q', 'uninstall', '--cache-only', ...r.pkgs));
    const warm = timed(...deblayer('-v', 'install', '-y', '--cache-only', ...r.pkgs));
    res.warm.push(warm.seconds);
    sh(...deblayer('-q', 'uninstall', '--cache-only', ...r.pkgs));
    // Stage durations of the cold run, from --verbose ("  import: 1.23 s").
    for (const m of cold.stderr.matchAll(/^ {2}(\w+): ([\d.]+) s$/gm)) (res.stages[m[1]] ??= []).push(Number(m[2]));
  }
}

console.log(`install: deblayer install vs apt-get install in a chroot of the same base, warm apt cache, medians of ${rounds} rounds`);
console.log('request          apt-get s  deblayer cold s  ratio  deblayer warm s  ratio  stages of the cold run, s');
for (const r of requests) {
  const res = results[r.label];
  const apt = median(res.apt);
  const cold = median(res.cold);
  const warm = median(res.warm);
  const stages = Object.entries(res.stages).map(([k, v]) => `${k} ${median(v).toFixed(2)}`).join(', ');
  console.log(
    `${r.label.padEnd(15)}  ${apt.toFixed(2).padStart(9)}  ${cold.toFixed(2).padStart(15)}  ${(cold / apt).toFixed(2).padStart(5)}  ${warm.toFixed(2).padStart(15)}  ${(warm / apt).toFixed(2).padStart(5)}  ${stages}`,
  );
}
