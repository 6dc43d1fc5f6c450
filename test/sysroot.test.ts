// Commands that find their base in a sysroot: the booted deployment, or the
// default one of an offline sysroot, made with the real `ostree admin deploy`.

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, inject, onTestFinished, test } from 'vitest';
import { buildFixtureWorld, type FixtureWorld } from './helpers/apt-repo.js';
import { deblayer } from './helpers/cli.js';
import { makeSysroot, type TestSysroot } from './helpers/sysroot.js';

let dir: string;
let world: FixtureWorld;
let repo: string;
const commits: Record<string, string> = {};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'deblayer-sysroot-'));
  world = await buildFixtureWorld(join(dir, 'world'), inject('fixtures').kernel!.xz!);
  repo = join(dir, 'repo');
  for (const [ref, db] of [
    ['fx/one', 'usr/lib/sysimage/dpkg'],
    ['fx/two', 'usr/share/dpkg/database'],
  ] as const) {
    const r = await deblayer(['--repo', repo, '--json', 'base', 'import', world.rootfs, '-b', ref, '--dpkg-database', db]);
    expect(r.exitCode, r.stderr).toBe(0);
    commits[ref] = JSON.parse(r.stdout).commit;
  }
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** An empty sysroot (no deployments yet) of the running test. */
async function emptySysroot(name: string): Promise<TestSysroot> {
  const sysroot = await makeSysroot(join(dir, name), repo);
  onTestFinished(() => sysroot.close());
  return sysroot;
}

function inSysroot(sysroot: TestSysroot, args: string[], global: string[] = []) {
  return deblayer(['--sysroot', sysroot.path, '--cache-dir', join(dir, 'cache'), ...global, ...args]);
}

test('an empty sysroot, and a directory that is no sysroot, are named as such', async () => {
  const sysroot = await emptySysroot('empty');
  const none = await inSysroot(sysroot, ['base', 'info']);
  expect(none.exitCode).toBe(3);
  expect(none.stderr).toBe(`deblayer: error: no deployments in ${sysroot.path}`);
  const plain = join(dir, 'plain');
  mkdirSync(plain);
  const r = await deblayer(['--sysroot', plain, 'install', '-n', 'fx-lib']);
  expect(r.exitCode).toBe(3);
  expect(r.stderr).toBe(`deblayer: error: ${plain} is not an OSTree sysroot (no ostree/deploy): name a base commit with --base REF (and --repo)`);
  // Every command says it the same way, in one line, with status 3 (not ostree's "opendir(ostree/repo)").
  for (const args of [['status'], ['history'], ['rollback'], ['cleanup'], ['upgrade'], ['uninstall', 'fx-lib'], ['install', 'fx-lib']]) {
    const other = await deblayer(['--sysroot', plain, '--cache-dir', join(dir, 'cache'), ...args]);
    expect(other.exitCode, `${args[0]}: ${other.stderr}`).toBe(3);
    expect(other.stderr.trim().split('\n'), args[0]).toHaveLength(1);
    expect(other.stderr, args[0]).toMatch(new RegExp(`^deblayer: error: ${plain.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not an OSTree sysroot \\(no ostree/deploy\\)`));
    expect(other.stderr, args[0]).not.toMatch(/opendir/);
  }
});

test("install --dry-run and base info use the offline sysroot's default deployment", async () => {
  const sysroot = await emptySysroot('deployed');
  await sysroot.deploy('fx/one');
  const info = JSON.parse((await inSysroot(sysroot, ['base', 'info'], ['--json'])).stdout);
  expect(info.commit).toBe(commits['fx/one']);
  expect(info.base).toBe(`deployment fx ${commits['fx/one']!.slice(0, 10)}.0`);
  expect(info.dpkgDatabase.path).toBe('/usr/lib/sysimage/dpkg');

  const r = await inSysroot(sysroot, ['install', '-n', 'fx-app'], ['--json']);
  expect(r.exitCode, r.stderr).toBe(0);
  const plan = JSON.parse(r.stdout);
  expect(plan.base.commit).toBe(commits['fx/one']);
  expect(plan.packages.map((p: { name: string }) => p.name).sort()).toEqual(['fx-app', 'fx-extra', 'fx-lib']);

  // A newer deployment becomes the default; the older one stays as rollback.
  await sysroot.deploy('fx/two');
  const again = JSON.parse((await inSysroot(sysroot, ['base', 'info'], ['--json'])).stdout);
  expect(again.commit).toBe(commits['fx/two']);
  expect(again.dpkgDatabase.path).toBe('/usr/share/dpkg/database');
  const human = await inSysroot(sysroot, ['install', '-n', 'fx-lib']);
  expect(human.exitCode, human.stderr).toBe(0);
  expect(human.stdout).toContain(`Resolving against deployment fx ${commits['fx/two']!.slice(0, 10)}.0 (commit ${commits['fx/two']!.slice(0, 10)})`);
  // --os names a stateroot that has no deployments.
  const other = await inSysroot(sysroot, ['base', 'info'], ['--os', 'other']);
  expect(other.exitCode).toBe(3);
  expect(other.stderr).toBe(`deblayer: error: no deployments of 'other' in ${sysroot.path}`);
});
