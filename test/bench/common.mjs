// What the sysroot benchmarks share: running inside a private mount namespace
// (their tmpfs sysroots vanish with it, and ostree admin deploy never freezes a
// file system of the machine), a scratch directory removed at exit with the
// mounts made in it, and commands run and timed.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const root = new URL('../../', import.meta.url).pathname;
export const cli = join(root, 'dist/bundle/main.js');

/** --rounds N from the command line, or the default. */
export function roundsFrom(args, fallback = 3) {
  const at = args.indexOf('--rounds');
  return at >= 0 ? Number(args[at + 1]) || fallback : fallback;
}

/** Re-runs SCRIPT (import.meta.url) in a private mount namespace unless it is in one already; returns only there. */
export function inPrivateMountNamespace(script, args) {
  if (process.env.DEBLAYER_BENCH_PRIVATE_NS) return;
  const r = spawnSync('unshare', ['--mount', '--propagation', 'private', process.execPath, new URL(script).pathname, ...args], {
    stdio: 'inherit',
    env: { ...process.env, DEBLAYER_BENCH_PRIVATE_NS: '1' },
  });
  process.exit(r.status ?? 1);
}

/** A scratch directory; `mounts` are unmounted and the directory removed at exit. */
export function scratch(name) {
  const work = mkdtempSync(join(tmpdir(), `deblayer-${name}-`));
  const mounts = [];
  process.on('exit', () => {
    for (const m of mounts) spawnSync('umount', ['--lazy', m]);
    rmSync(work, { recursive: true, force: true });
  });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));
  return { work, mounts };
}

export const env = { ...process.env, LC_ALL: 'C' };

/** Runs a command; its stdout, or an error with its output. */
export function sh(cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, { env, encoding: 'utf8', maxBuffer: 1 << 26, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status}):\n${r.stderr}\n${r.stdout}`);
  return r.stdout;
}

/** Runs a command, timed: seconds and stderr. */
export function timed(cmd, argv, opts = {}) {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, argv, { env, encoding: 'utf8', maxBuffer: 1 << 26, ...opts });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status}):\n${r.stderr}`);
  return { seconds, stderr: r.stderr, stdout: r.stdout };
}

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The real base (built or reused by test/make-real-base.sh) extracted into DIR, with a stand-in kernel for ostree admin deploy. */
export function extractRealBase(dir) {
  const tarball = execFileSync('sh', [join(root, 'test/make-real-base.sh')], { encoding: 'utf8' }).trim();
  mkdirSync(dir);
  sh('tar', ['--numeric-owner', '-xpf', tarball, '-C', dir]);
  writeFileSync(join(dir, 'boot/vmlinuz-6.1.0-0-bench'), 'x\n');
  writeFileSync(join(dir, 'boot/initrd.img-6.1.0-0-bench'), 'x\n');
  mkdirSync(join(dir, 'usr/lib/modules/6.1.0-0-bench'), { recursive: true });
  return dir;
}

/**
 * An offline sysroot on a tmpfs at PATH (added to MOUNTS, unmounted at exit),
 * its stateroot debian, with REF pulled from REPO and deployed.
 */
export function tmpfsSysroot(path, mounts, repo, ref, size = '4g') {
  mkdirSync(path);
  sh('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', path]);
  mounts.push(path);
  sh('ostree', ['admin', 'init-fs', path]);
  sh('ostree', ['admin', 'os-init', 'debian', `--sysroot=${path}`]);
  sh('ostree', [`--repo=${path}/ostree/repo`, 'pull-local', repo, ref]);
  sh('ostree', ['admin', 'deploy', `--sysroot=${path}`, '--os=debian', ref]);
  return path;
}
