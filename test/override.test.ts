// override remove and override reset on the real Debian 12 base: base
// packages purged by dpkg from the deployment (their files, conffiles and
// database entries gone), refused when apt says others need them or when they
// are essential, kept in the origin and shown by status, reapplied when a
// layered package is installed and when the base is upgraded (and dropped,
// with a note, when the new base no longer has them), and brought back by
// reset. Needs deb.debian.org (the base's package lists).

import { execa } from 'execa';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, inject, test } from 'vitest';
import { buildPackage } from './helpers/apt-repo.js';
import { CLI, deblayer, type CliResult } from './helpers/cli.js';
import { extractBootableBase, makeSysroot, type TestSysroot } from './helpers/sysroot.js';

const DATABASE = 'usr/lib/sysimage/dpkg';
let work: string;
let tree: string;
let repo: string;
let sysroot: TestSysroot;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'deblayer-override-'));
  repo = join(work, 'repo');
  tree = await extractBootableBase(inject('realBase'), join(work, 'tree'));
  const imported = await deblayer(['--repo', repo, 'base', 'import', tree, '-b', 'debian/bookworm']);
  expect(imported.exitCode, imported.stderr).toBe(0);
  sysroot = await makeSysroot(join(work, 'sysroot'), repo, 'debian', '3g');
  await sysroot.deploy('debian/bookworm');
  mkdirSync(join(work, 'empty-lists'));
  const refreshed = await run(['refresh-md']);
  expect(refreshed.exitCode, refreshed.stderr).toBe(0);
}, 600_000);

afterAll(async () => {
  await sysroot?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

const run = (args: string[], global: string[] = []): Promise<CliResult> =>
  deblayer(['--sysroot', sysroot.path, '--cache-dir', join(work, 'cache'), ...global, ...args]);

/** The default deployment: its directory, origin and status as deblayer --json status gives them. */
async function current(): Promise<{ path: string; checksum: string; origin: string; removedBasePackages: string[]; layeredPackages: string[] }> {
  const r = await run(['status'], ['--json']);
  expect(r.exitCode, r.stderr).toBe(0);
  const d = (JSON.parse(r.stdout) as { deployments: { path: string; checksum: string; default: boolean; removedBasePackages: string[]; layeredPackages: string[] }[] }).deployments.find((x) => x.default)!;
  return { ...d, origin: readFileSync(`${d.path}.origin`, 'utf8') };
}

/** package -> version of what dpkg has installed in DEPLOYMENT. */
async function installed(deployment: string): Promise<Map<string, string>> {
  const r = await execa('dpkg-query', [`--admindir=${join(deployment, DATABASE)}`, '-W', '-f', '${Package} ${Version} ${db:Status-Abbrev}\n']);
  return new Map(r.stdout.split('\n').filter((l) => /ii $/.test(l)).map((l) => l.split(' ') as [string, string]));
}

/** dpkg --audit and --verify of the deployment: nothing to say. */
async function dpkgChecks(deployment: string): Promise<void> {
  const audit = await execa('dpkg', [`--admindir=${join(deployment, DATABASE)}`, '--audit'], { reject: false });
  expect(audit.stdout + audit.stderr).toBe('');
  const verify = await execa('dpkg', [`--root=${deployment}`, `--admindir=${join(deployment, DATABASE)}`, '--verify'], { reject: false });
  // An offline sysroot's /var is empty until boot (tmpfiles.d fills it): only what the tree holds is verified.
  expect(verify.stdout.split('\n').filter((l) => l !== '' && !/ \/var(\/|$)/.test(l))).toEqual([]);
  const check = await execa('apt-get', ['-o', `Dir::State::status=${join(deployment, DATABASE)}/status`, '-o', `Dir::State::Lists=${join(work, 'empty-lists')}/`, '-o', 'Dir::Cache=/nonexistent', 'check'], { reject: false });
  expect(check.exitCode, check.stdout + check.stderr).toBe(0);
}

test('override remove refuses what apt would not remove alone, and an essential package; a dry run changes nothing', async () => {
  const before = await current();
  const essential = await run(['override', 'remove', 'base-files']);
  expect([essential.exitCode, essential.stderr]).toEqual([5, 'deblayer: error: base-files is essential (Essential: yes): apt and dpkg refuse to remove it, and so does deblayer']);
  // apt needs debian-archive-keyring, and apt does not remove itself.
  const needed = await run(['override', 'remove', 'debian-archive-keyring']);
  expect([needed.exitCode, needed.stderr]).toEqual([5, 'deblayer: error: cannot remove debian-archive-keyring: apt, which apt keeps installed, depends on debian-archive-keyring']);
  // dmsetup: libdevmapper needs it, and what needs libdevmapper (cryptsetup's library, systemd) would go too.
  const chain = await run(['override', 'remove', 'dmsetup']);
  expect(chain.exitCode).toBe(5);
  expect(chain.stderr).toMatch(/^deblayer: error: removing dmsetup would also remove (\S+, )*libdevmapper1\.02\.1(, \S+)*, which depend on it: name them too \(deblayer override remove dmsetup .*libdevmapper1\.02\.1.*\)$/);
  const unknown = await run(['override', 'remove', 'no-such-package']);
  expect([unknown.exitCode, unknown.stderr]).toEqual([1, `deblayer: error: no-such-package: not a package of the base deployment debian ${before.checksum.slice(0, 10)}.0`]);
  const dry = await run(['override', 'remove', '-n', 'tzdata']);
  expect(dry.exitCode, dry.stderr).toBe(0);
  expect(dry.stdout).toMatch(/^The following base packages will be REMOVED:\n {2}tzdata \(20\d\d\w+-\S+\)\nNothing is layered\.$/);
  expect(await current()).toEqual(before);
}, 300_000);

test('override remove purges base packages as dpkg does, kept in the origin and shown by status; an install keeps them out', async () => {
  const base = await installed((await current()).path);
  expect(base.has('tzdata')).toBe(true);
  const removed = await run(['override', 'remove', 'tzdata'], ['-v']);
  expect(removed.exitCode, removed.stderr).toBe(0);
  expect(removed.stdout).toMatch(new RegExp(`^Removed from the base: tzdata ${base.get('tzdata')!.replace(/[.+]/g, '\\$&')}\\.$`, 'm'));
  const d = await current();
  expect(d.origin).toMatch(/^\[overrides\]\nremove=tzdata;$/m);
  expect(d.origin).toMatch(/^baserefspec=debian\/bookworm$/m);
  expect(d.removedBasePackages).toEqual([`tzdata=${base.get('tzdata')}`]);
  const text = await run(['status']);
  expect(text.stdout).toContain(`RemovedBasePackages: tzdata ${base.get('tzdata')}`);
  // Its files and database entries are gone, the rest of the base is as it was.
  expect(existsSync(join(d.path, 'usr/share/zoneinfo'))).toBe(false);
  expect(existsSync(join(d.path, DATABASE, 'info/tzdata.list'))).toBe(false);
  const after = await installed(d.path);
  expect([...base.keys()].filter((n) => !after.has(n))).toEqual(['tzdata']);
  await dpkgChecks(d.path);
  expect((await run(['override', 'remove', 'tzdata'])).stdout).toBe('Already removed from the base: tzdata. Nothing to do.');

  // A request that needs a removed package fails with apt's reason, naming it.
  const needs = await run(['install', '-n', 'python3-tz']);
  expect(needs.exitCode).toBe(5);
  expect(needs.stderr).toMatch(/tzdata/);

  // An install on top: the state is derived again, tzdata still out, less in.
  const less = await run(['install', 'less']);
  expect(less.exitCode, less.stderr).toBe(0);
  const layered = await current();
  expect(layered.origin).toMatch(/^remove=tzdata;$/m);
  expect(layered.layeredPackages).toEqual([expect.stringMatching(/^less=/)]);
  const withLess = await installed(layered.path);
  expect(withLess.has('tzdata')).toBe(false);
  expect(withLess.has('less')).toBe(true);
  expect(existsSync(join(layered.path, 'usr/share/zoneinfo'))).toBe(false);
  await dpkgChecks(layered.path);

  // A second removal on that state is purged from it, the layered package kept as it is.
  const e2fs = await run(['override', 'remove', 'e2fsprogs'], ['-v']);
  expect(e2fs.exitCode, e2fs.stderr).toBe(0);
  expect(e2fs.stderr).toContain('Building on the current state: only the removal is done.');
  const both = await current();
  expect(both.removedBasePackages.map((p) => p.split('=')[0]).sort()).toEqual(['e2fsprogs', 'tzdata']);
  const now = await installed(both.path);
  expect(['tzdata', 'e2fsprogs'].filter((n) => now.has(n))).toEqual([]);
  expect(now.get('less')).toBe(withLess.get('less'));
  expect(existsSync(join(both.path, 'usr/sbin/mke2fs'))).toBe(false);
  // Its conffile goes with it (a purge).
  expect(existsSync(join(both.path, 'usr/etc/mke2fs.conf'))).toBe(false);
  await dpkgChecks(both.path);
}, 600_000);

test('upgrade reapplies the removals to the new base, and drops, with a note, one the new base no longer has', async () => {
  // A new base commit without e2fsprogs: dpkg purges it from the tree before it is imported again.
  await execa('dpkg', [`--root=${tree}`, '--force-depends', '--force-remove-essential', '--purge', 'e2fsprogs'], { env: { LC_ALL: 'C', PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } });
  writeFileSync(join(tree, 'usr/share/override-test'), 'new base\n');
  const imported = await deblayer(['--repo', repo, 'base', 'import', tree, '-b', 'debian/bookworm']);
  expect(imported.exitCode, imported.stderr).toBe(0);
  await execa('ostree', [`--repo=${join(sysroot.path, 'ostree/repo')}`, 'pull-local', repo, 'debian/bookworm']);
  const up = await run(['upgrade']);
  expect(up.exitCode, up.stderr).toBe(0);
  expect(up.stderr).toContain('The new base has no e2fsprogs: its override remove is dropped.');
  const d = await current();
  expect(existsSync(join(d.path, 'usr/share/override-test'))).toBe(true);
  expect(d.origin).toMatch(/^remove=tzdata;$/m);
  expect(d.removedBasePackages.map((p) => p.split('=')[0])).toEqual(['tzdata']);
  const pkgs = await installed(d.path);
  expect(pkgs.has('tzdata')).toBe(false);
  expect(pkgs.has('less')).toBe(true);
  expect(existsSync(join(d.path, 'usr/share/zoneinfo'))).toBe(false);
  await dpkgChecks(d.path);
}, 600_000);

test('override reset brings a removed package back from the base; --all leaves no override in the origin', async () => {
  const bad = await run(['override', 'reset', 'less']);
  expect([bad.exitCode, bad.stderr]).toEqual([1, 'deblayer: error: less: not removed or replaced in the base of this deployment (deblayer status lists its overrides: tzdata)']);
  const reset = await run(['override', 'reset', 'tzdata']);
  expect(reset.exitCode, reset.stderr).toBe(0);
  expect(reset.stdout).toMatch(/^Back from the base: tzdata \S+\.$/m);
  const d = await current();
  expect(d.origin).not.toContain('[overrides]');
  expect(d.removedBasePackages).toEqual([]);
  expect((await installed(d.path)).has('tzdata')).toBe(true);
  expect(existsSync(join(d.path, 'usr/share/zoneinfo/UTC'))).toBe(true);
  await dpkgChecks(d.path);
  const none = await run(['override', 'reset', '--all']);
  expect([none.exitCode, none.stdout]).toEqual([0, 'No base package is removed or replaced. Nothing to do.']);
  // The layer database has each of them, failed ones too, as transactions of their own.
  const history = JSON.parse((await run(['history'], ['--json'])).stdout) as { entries: { command: string; result: string }[] };
  expect(history.entries.map((e) => `${e.command} ${e.result}`)).toEqual(
    expect.arrayContaining(['override remove ok', 'override remove failed', 'override reset ok', 'override reset unchanged']),
  );
}, 600_000);

test('override replace ./FILE.deb: the base package purged though apt depends on it, the other version layered in its place; upgrade drops it once the base has caught up', async () => {
  const before = await installed((await current()).path);
  const keyring = before.get('debian-archive-keyring')!;
  const fake = await buildPackage({ Package: 'debian-archive-keyring', Version: '2099.1', Architecture: 'all' }, work);
  // As an admin types it: a relative path, from the directory that holds the file.
  const replaced = await execa('node', [CLI, '--sysroot', sysroot.path, '--cache-dir', join(work, 'cache'), 'override', 'replace', './debian-archive-keyring_2099.1_all.deb'], { cwd: work, reject: false, env: { LC_ALL: 'C' } });
  expect(replaced.exitCode, replaced.stderr).toBe(0);
  expect(replaced.stdout).toMatch(new RegExp(`^Replaced in the base: debian-archive-keyring ${keyring.replace(/[.+]/g, '\\$&')} -> 2099\\.1\\.$`, 'm'));
  const d = await current();
  expect(d.origin).toMatch(/^\[overrides\]\nreplace-local=debian-archive-keyring_2099\.1_all;$/m);
  // Not a request: the layered requests are as they were.
  expect(d.origin).toMatch(/^requested=less;$/m);
  expect(d.origin).not.toContain('requested-local');
  expect((await run(['status'])).stdout).toContain(`ReplacedBasePackages: debian-archive-keyring ${keyring} -> 2099.1`);
  const pkgs = await installed(d.path);
  expect(pkgs.get('debian-archive-keyring')).toBe('2099.1');
  expect(pkgs.has('apt')).toBe(true);
  expect(pkgs.has('less')).toBe(true);
  // The base's files went with the purge; the replacement's are there.
  expect(existsSync(join(d.path, 'usr/share/keyrings/debian-archive-keyring.gpg'))).toBe(false);
  expect(readFileSync(join(d.path, 'usr/share/doc/debian-archive-keyring/marker'), 'utf8')).toBe('debian-archive-keyring 2099.1\n');
  await dpkgChecks(d.path);
  // The replacement is not a layered request: uninstall points to reset.
  const un = await run(['uninstall', 'debian-archive-keyring']);
  expect([un.exitCode, un.stderr]).toEqual([1, 'deblayer: error: debian-archive-keyring: a replacement of a base package (override replace): deblayer override reset debian-archive-keyring brings the base\'s back']);
  // An install on top keeps it.
  const again = await run(['install', 'bc']);
  expect(again.exitCode, again.stderr).toBe(0);
  expect((await installed((await current()).path)).get('debian-archive-keyring')).toBe('2099.1');

  // A new base with that version: the replacement is dropped with a note, the base's package stays.
  await execa('dpkg', [`--root=${tree}`, '--force-depends', '-i', fake], { env: { LC_ALL: 'C', PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } });
  const imported = await deblayer(['--repo', repo, 'base', 'import', tree, '-b', 'debian/bookworm']);
  expect(imported.exitCode, imported.stderr).toBe(0);
  await execa('ostree', [`--repo=${join(sysroot.path, 'ostree/repo')}`, 'pull-local', repo, 'debian/bookworm']);
  const up = await run(['upgrade']);
  expect(up.exitCode, up.stderr).toBe(0);
  expect(up.stderr).toContain('The new base has debian-archive-keyring 2099.1, which is the replacement 2099.1: the override replace is dropped.');
  const after = await current();
  expect(after.origin).not.toContain('[overrides]');
  expect((await installed(after.path)).get('debian-archive-keyring')).toBe('2099.1');
  await dpkgChecks(after.path);
}, 600_000);
