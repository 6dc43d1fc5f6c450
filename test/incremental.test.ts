// Incremental transactions against derived ones, on the real Debian 12 base:
// one sysroot adds packages one install at a time and drops one (each state
// built on the one before, as dpkg changes a mutable system), the other makes
// the same layered sets derived from the base (`--rebuild`). The two
// deployments must agree on what a user can tell apart: dpkg's status, every
// path of the tree with its content, mode and owner, the accounts and the
// tmpfiles.d lines. The few paths that may differ are listed, each with why.
// Needs deb.debian.org.

import { execa } from 'execa';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { deblayer } from './helpers/cli.js';
import { extractBootableBase, makeSysroot, type TestSysroot } from './helpers/sysroot.js';

const SUITE = 'bookworm';
const DATABASE = 'usr/lib/sysimage/dpkg';

/**
 * Paths whose content may differ between the two ways, and why. Anything
 * else that differs fails the test.
 */
const EXPLAINED: [RegExp, string][] = [
  // man-db's index is a cache (kept so that man -k knows the layered pages): its bytes depend on the
  // order mandb met the pages in, and a second mandb run (the trigger a purge activates) adds a
  // CACHEDIR.TAG to every language's directory, as on a mutable system.
  [/^\/usr\/share\/factory\/var\/cache\/man\//, "man-db's index cache"],
  [/^\/var\/cache\/man\//, "man-db's index cache (its tmpfiles.d lines)"],
  // Compared line by line (tmpfilesLines), the lines above aside.
  [/^\/usr\/lib\/tmpfiles\.d\/deblayer-00-scripts\.conf$/, 'compared line by line'],
  // Compared as data (package, version, state) by dpkgStatus.
  [/^\/usr\/lib\/sysimage\/dpkg\/status$/, 'compared field by field'],
];

let work: string;
let incremental: TestSysroot;
/** The derived sysroot's last deployment: redis-server and man-db layered. */
let derivedLast: { path: string; commit: string };
let derived: TestSysroot;
const cache = () => join(work, 'cache');

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'deblayer-incremental-'));
  mkdirSync(join(work, 'empty-lists'));
  const repo = join(work, 'repo');
  const root = await extractBootableBase(inject('realBase'), join(work, 'bootable'));
  const imported = await deblayer(['--repo', repo, 'base', 'import', root, '-b', `debian/${SUITE}`]);
  expect(imported.exitCode, imported.stderr).toBe(0);
  rmSync(root, { recursive: true, force: true });
  incremental = await makeSysroot(join(work, 'incremental'), repo, 'debian', '3g');
  derived = await makeSysroot(join(work, 'derived'), repo, 'debian', '3g');
  await incremental.deploy(`debian/${SUITE}`);
  await derived.deploy(`debian/${SUITE}`);
  rmSync(repo, { recursive: true, force: true });
}, 600_000);

afterAll(async () => {
  await incremental?.close();
  await derived?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

const on = (s: TestSysroot) => (args: string[]) => deblayer(['--sysroot', s.path, '--cache-dir', cache(), '--json', '-v', ...args]);

/** Runs a transaction; returns its new deployment's path and commit, and what it said about how the state was made. */
async function transact(s: TestSysroot, args: string[]): Promise<{ path: string; commit: string; stderr: string }> {
  const r = await on(s)(args);
  expect(r.exitCode, r.stderr).toBe(0);
  const deployed = JSON.parse(r.stdout).deployed as { path: string; commit: string };
  return { ...deployed, stderr: r.stderr };
}

/** path -> "mode uid gid size checksum [target]" of every path in COMMIT. */
async function listing(s: TestSysroot, commit: string): Promise<Map<string, string>> {
  const r = await execa('ostree', [`--repo=${join(s.path, 'ostree/repo')}`, 'ls', '-R', '-C', commit], { env: { LC_ALL: 'C' } });
  const out = new Map<string, string>();
  for (const line of r.stdout.split('\n')) {
    const m = /^(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+([0-9a-f]{64})\s+(\/\S*)(.*)$/.exec(line);
    if (m) out.set(m[6]!, `${m[1]} ${m[2]} ${m[3]} ${m[4]} ${m[1]!.startsWith('d') ? '' : m[5]}${m[7]}`);
  }
  return out;
}

/** package -> "version status" of a deployment's dpkg status. */
function dpkgStatus(deployment: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of readFileSync(join(deployment, DATABASE, 'status'), 'utf8').split(/\n\n+/)) {
    const name = /^Package: (\S+)/m.exec(p)?.[1];
    if (name) out.set(name, `${/^Version: (.*)$/m.exec(p)?.[1]} ${/^Status: (.*)$/m.exec(p)?.[1]}`);
  }
  return out;
}

/** Every tmpfiles.d line of the tree, sorted. */
function tmpfilesLines(deployment: string): string[] {
  const dir = join(deployment, 'usr/lib/tmpfiles.d');
  return readdirSync(dir)
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n'))
    .filter((l) => l.trim() !== '' && !l.startsWith('#'))
    .filter((l) => !EXPLAINED.some(([re]) => re.test(l.split(/\s+/)[1] ?? '')))
    .sort();
}

/** The differences between two commits' trees that no entry of EXPLAINED accounts for. */
async function unexplained(a: { s: TestSysroot; commit: string }, b: { s: TestSysroot; commit: string }): Promise<string[]> {
  const [la, lb] = await Promise.all([listing(a.s, a.commit), listing(b.s, b.commit)]);
  // Both trees are whole: the base's paths and the layer's.
  expect(Math.min(la.size, lb.size)).toBeGreaterThan(5000);
  const out: string[] = [];
  for (const path of new Set([...la.keys(), ...lb.keys()])) {
    if (la.get(path) === lb.get(path)) continue;
    if (EXPLAINED.some(([re]) => re.test(path))) {
      if (process.env.DEBLAYER_TEST_SHOW_EXPLAINED) console.log(`explained: ${path}`);
      continue;
    }
    out.push(`${path}: incremental ${la.get(path) ?? '(absent)'}, derived ${lb.get(path) ?? '(absent)'}`);
  }
  return out.sort();
}

/** What a derived state passes: dpkg's audit and verify, and apt's check of the dependencies. */
async function expectConsistent(deployment: string): Promise<void> {
  const admindir = join(deployment, DATABASE);
  const audit = await execa('dpkg', [`--admindir=${admindir}`, '--audit'], { reject: false });
  expect(audit.stdout + audit.stderr, 'dpkg --audit').toBe('');
  const verify = await execa('dpkg', [`--root=${deployment}`, `--admindir=${admindir}`, '--verify'], { reject: false });
  // An offline sysroot's /var is empty until boot (tmpfiles.d fills it): only what the tree holds is verified.
  const problems = verify.stdout.split('\n').filter((l) => l !== '' && !/ \/var(\/|$)/.test(l));
  expect(problems, 'dpkg --verify').toEqual([]);
  const check = await execa('apt-get', ['-o', `Dir::State::status=${admindir}/status`, '-o', `Dir::State::Lists=${join(work, 'empty-lists')}/`, '-o', 'Dir::Cache=/nonexistent', 'check'], { reject: false });
  expect(check.exitCode, check.stdout + check.stderr).toBe(0);
}

async function expectSame(a: { s: TestSysroot; path: string; commit: string }, b: { s: TestSysroot; path: string; commit: string }): Promise<void> {
  expect(dpkgStatus(a.path)).toEqual(dpkgStatus(b.path));
  expect(await unexplained(a, b)).toEqual([]);
  expect(readFileSync(join(a.path, 'usr/lib/sysusers.d/00-deblayer.conf'), 'utf8')).toBe(readFileSync(join(b.path, 'usr/lib/sysusers.d/00-deblayer.conf'), 'utf8'));
  expect(tmpfilesLines(a.path)).toEqual(tmpfilesLines(b.path));
}

describe(`on ${SUITE}: a state built on the one before agrees with one derived from the base`, () => {
  test('install htop, then redis-server and man-db (an account, /var state, a service, ldconfig triggers, a file trigger over every man page): only those and what they pull in are configured', async () => {
    await transact(incremental, ['install', 'htop']);
    const second = await transact(incremental, ['install', 'redis-server', 'man-db']);
    expect(second.stderr).toMatch(/Building on the current state/);
    // Only the added packages were configured: htop, configured by the first install, was not again.
    expect(second.stderr).toMatch(/Setting up redis-server /);
    expect(second.stderr).not.toMatch(/Setting up htop /);
    const together = await transact(derived, ['install', 'htop', 'redis-server', 'man-db']);
    const incrementalState = { s: incremental, ...second };
    const derivedState = { s: derived, ...together };
    await expectConsistent(second.path);
    await expectSame(incrementalState, derivedState);
    // The layer database says which way each state was made.
    const history = await deblayer(['--sysroot', incremental.path, '--json', 'history']);
    const made = (JSON.parse(history.stdout).entries as { state?: { made: string } }[]).filter((e) => e.state).map((e) => e.state!.made);
    expect(made).toEqual(['derived', 'incremental']);
  }, 900_000);

  test('uninstall htop purges it from the current state as dpkg does; the result agrees with the state derived without it', async () => {
    const purged = await transact(incremental, ['uninstall', 'htop']);
    expect(purged.stderr).toMatch(/Building on the current state/);
    const rebuilt = (derivedLast = await transact(derived, ['uninstall', '--rebuild', 'htop']));
    expect(rebuilt.stderr).toMatch(/Deriving the state from the base \(--rebuild\)/);
    await expectConsistent(purged.path);
    await expectSame({ s: incremental, ...purged }, { s: derived, ...rebuilt });
    expect(readdirSync(join(purged.path, DATABASE, 'info')).filter((f) => f.startsWith('htop.'))).toEqual([]);
  }, 900_000);

  test('install curl, then uninstall it: what only curl needed goes, ca-certificates too, though the base\'s apt recommends it', async () => {
    const added = await transact(incremental, ['install', 'curl']);
    expect(readdirSync(join(added.path, DATABASE, 'info')).filter((f) => f.startsWith('ca-certificates.'))).not.toEqual([]);
    const purged = await transact(incremental, ['uninstall', 'curl']);
    expect(purged.stderr).toMatch(/Building on the current state/);
    await expectConsistent(purged.path);
    await expectSame({ s: incremental, ...purged }, { s: derived, ...derivedLast });
  }, 900_000);

  test('install dbus, then uninstall it: its sysusers.d file goes, and deblayer\'s override of it; the account dbus made stays, as dpkg leaves it', async () => {
    const added = await transact(incremental, ['install', 'dbus']);
    expect(existsSync(join(added.path, 'usr/lib/sysusers.d/dbus.conf'))).toBe(true);
    // messagebus's id is pinned in deblayer's own file, so dbus's file is overridden without it.
    expect(readFileSync(join(added.path, 'usr/etc/sysusers.d/dbus.conf'), 'utf8')).toMatch(/^# u messagebus /m);
    const purged = await transact(incremental, ['uninstall', 'dbus']);
    expect(purged.stderr).toMatch(/Building on the current state/);
    expect(existsSync(join(purged.path, 'usr/lib/sysusers.d/dbus.conf'))).toBe(false);
    expect(existsSync(join(purged.path, 'usr/etc/sysusers.d/dbus.conf'))).toBe(false);
    await expectConsistent(purged.path);
    const before = { s: derived, ...derivedLast };
    expect(dpkgStatus(purged.path)).toEqual(dpkgStatus(before.path));
    expect(tmpfilesLines(purged.path)).toEqual(tmpfilesLines(before.path));
    // dpkg's purge of dbus leaves the messagebus account; deblayer keeps its id pinned, the only difference.
    expect((await unexplained({ s: incremental, ...purged }, before)).map((d) => d.split(':')[0])).toEqual(['/usr/lib/sysusers.d/00-deblayer.conf']);
    const accounts = (p: string) => readFileSync(join(p, 'usr/lib/sysusers.d/00-deblayer.conf'), 'utf8').split('\n').filter((l) => /^[ugm] /.test(l));
    const kept = accounts(purged.path).filter((l) => !accounts(before.path).includes(l));
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.every((l) => l.split(/\s+/)[1] === 'messagebus'), kept.join('\n')).toBe(true);
    expect(accounts(before.path).filter((l) => !accounts(purged.path).includes(l))).toEqual([]);
  }, 900_000);
});
