// upgrade: a second base commit on the branch of a local "remote" repository,
// pulled into an offline sysroot, with the same requests layered again.

import { execa } from 'execa';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, inject, test } from 'vitest';
import { buildFixtureWorld, type FixtureWorld } from './helpers/apt-repo.js';
import { deblayer } from './helpers/cli.js';
import { inPrivateMountNamespace } from './helpers/sysroot.js';

let dir: string;
let world: FixtureWorld;
let remote: string;
let sysroot: string;
let cache: string;
let firstBase: string;

const ostree = async (args: string[]) => (await execa('ostree', args, { env: { LC_ALL: 'C' } })).stdout;

beforeAll(async () => {
  if (!inPrivateMountNamespace()) throw new Error('run with npm test: this test mounts a tmpfs sysroot');
  dir = mkdtempSync(join(tmpdir(), 'deblayer-upgrade-'));
  world = await buildFixtureWorld(join(dir, 'world'), inject('fixtures').kernel!.xz!);
  remote = join(dir, 'remote');
  const r = await deblayer(['--repo', remote, '--json', 'base', 'import', world.rootfs, '-b', 'fx/base']);
  expect(r.exitCode, r.stderr).toBe(0);
  firstBase = JSON.parse(r.stdout).commit;
  cache = join(dir, 'cache');
  sysroot = join(dir, 'sysroot');
  mkdirSync(sysroot);
  await execa('mount', ['-t', 'tmpfs', 'tmpfs', sysroot]);
  const repo = `--repo=${sysroot}/ostree/repo`;
  await ostree(['admin', 'init-fs', sysroot]);
  await ostree(['admin', 'os-init', 'fx', `--sysroot=${sysroot}`]);
  await ostree([repo, 'remote', 'add', '--no-gpg-verify', 'origin', `file://${remote}`]);
  await ostree([repo, 'pull', 'origin', 'fx/base']);
  await ostree(['admin', 'deploy', `--sysroot=${sysroot}`, '--os=fx', 'origin:fx/base']);
});
afterAll(async () => {
  if (sysroot) await execa('umount', ['--lazy', sysroot], { reject: false });
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const run = (args: string[], global: string[] = []) => deblayer(['--sysroot', sysroot, '--cache-dir', cache, ...global, ...args]);

test('upgrade pulls the new base and layers the same requests on it again', async () => {
  expect((await run(['install', 'fx-app'])).exitCode).toBe(0);
  const none = await run(['upgrade', '--unchanged-exit-77']);
  expect(none.exitCode, none.stderr).toBe(77);
  expect(none.stdout).toBe(`No upgrade available: the base is still ${firstBase.slice(0, 10)}, and the layered packages are the newest their sources have.`);

  // A new build of the base on the remote's branch.
  const root2 = join(dir, 'rootfs2');
  await execa('cp', ['-a', world.rootfs, root2]);
  writeFileSync(join(root2, 'usr/share/new-in-base'), 'from the second build\n');
  const second = await deblayer(['--repo', remote, '--json', 'base', 'import', root2, '-b', 'fx/base']);
  const secondBase = JSON.parse(second.stdout).commit as string;
  expect(JSON.parse(second.stdout).parent).toBe(firstBase);

  const r = await run(['upgrade'], ['--json']);
  expect(r.exitCode, r.stderr).toBe(0);
  const result = JSON.parse(r.stdout);
  expect(result).toMatchObject({ previousBase: firstBase, newBase: secondBase });
  const deployment = result.deployed.path as string;
  expect(readFileSync(join(deployment, 'usr/share/new-in-base'), 'utf8')).toBe('from the second build\n');
  expect(existsSync(join(deployment, 'usr/share/doc/fx-app/marker'))).toBe(true);
  expect((await ostree([`--repo=${sysroot}/ostree/repo`, 'rev-parse', `${result.deployed.commit}^`])).trim()).toBe(secondBase);
  const origin = readFileSync(`${deployment}.origin`, 'utf8');
  expect(origin).toMatch(/^baserefspec=origin:fx\/base$/m);
  expect(origin).toMatch(/^requested=fx-app;$/m);
  // The packages came from the package cache: nothing was imported again.
  expect(result.deployed.imported).toEqual([]);
  const history = JSON.parse((await run(['history'], ['--json'])).stdout).entries;
  expect(history.map((e: { command: string; result: string }) => `${e.command}:${e.result}`)).toEqual(['install:ok', 'upgrade:unchanged', 'upgrade:ok']);
  await execa('ostree', ['fsck', `--repo=${sysroot}/ostree/repo`, '--quiet']);
});
