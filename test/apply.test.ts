// apply: a host's layered set made equal to a manifest's Packages in one
// transaction, on an offline sysroot on tmpfs with the fixture world's base.

import { mkdtempSync, readFileSync, readdirSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, inject, test } from 'vitest';
import { buildFixtureWorld, fixtureSources, type FixtureWorld } from './helpers/apt-repo.js';
import { deblayer } from './helpers/cli.js';
import { makeSysroot, type TestSysroot } from './helpers/sysroot.js';

let dir: string;
let world: FixtureWorld;
let sysroot: TestSysroot;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'deblayer-apply-'));
  world = await buildFixtureWorld(join(dir, 'world'), inject('fixtures').kernel!.xz!);
  const source = join(dir, 'source');
  const r = await deblayer(['--repo', source, 'base', 'import', world.rootfs, '-b', 'fx/base']);
  expect(r.exitCode, r.stderr).toBe(0);
  sysroot = await makeSysroot(join(dir, 'sysroot'), source);
  await sysroot.deploy('fx/base');
  writeFileSync(join(dir, 'fixture.sources'), fixtureSources(`file:${world.repo}`, world.keyring));
}, 300_000);
afterAll(async () => {
  await sysroot?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const run = (args: string[]) => deblayer(['--sysroot', sysroot.path, '--cache-dir', join(dir, 'cache'), ...args]);
const deployments = () => readdirSync(join(sysroot.path, 'ostree/deploy/fx/deploy')).filter((n) => !n.endsWith('.origin')).sort();

function manifest(packages: string[]): string {
  const path = join(dir, 'host.layer');
  writeFileSync(path, `Base: fx/base\nBranch: fx/host\nSources: fixture.sources\nPackages: ${packages.join(', ')}\n`);
  return path;
}

test('apply installs what the manifest adds and removes what it leaves out, in one transaction', async () => {
  const installed = await run(['install', '--source', join(dir, 'fixture.sources'), 'fx-app']);
  expect(installed.exitCode, installed.stderr).toBe(0);
  const before = deployments();

  const dry = await run(['apply', manifest(['fx-conf', 'fx-epoch']), '--dry-run']);
  expect(dry.exitCode, dry.stderr).toBe(0);
  expect(dry.stdout).toMatch(/^Requests: \+fx-conf \+fx-epoch -fx-app$/m);
  // fx-lib, layered for fx-app already, stays: only what changes is listed.
  // 1 not upgraded: the base's fx-basepkg (1.0; 2.0 in the repository), as apt-get counts it.
  expect(dry.stdout).toMatch(/The following packages will be REMOVED:\n\s+fx-app fx-extra\nThe following NEW packages will be installed:\n\s+fx-conf fx-epoch\n0 upgraded, 2 newly installed, 2 to remove and 1 not upgraded\.\n/);
  expect(deployments()).toEqual(before);

  const r = await run(['--json', 'apply', join(dir, 'host.layer')]);
  expect(r.exitCode, r.stderr).toBe(0);
  const result = JSON.parse(r.stdout);
  expect(result.requests).toEqual({ added: ['fx-conf', 'fx-epoch'], removed: ['fx-app'] });
  const deployment = result.deployed.path as string;
  expect(readFileSync(`${deployment}.origin`, 'utf8')).toMatch(/^requested=fx-conf;fx-epoch;$/m);
  expect(existsSync(join(deployment, 'usr/share/doc/fx-conf/marker'))).toBe(true);
  expect(existsSync(join(deployment, 'usr/share/doc/fx-epoch/marker'))).toBe(true);
  expect(existsSync(join(deployment, 'usr/share/doc/fx-app/marker'))).toBe(false);

  const again = await run(['apply', join(dir, 'host.layer'), '--unchanged-exit-77']);
  expect(again.exitCode, again.stderr).toBe(77);
  expect(again.stdout).toBe('Already layered: fx-conf, fx-epoch. Nothing to do.');

  const history = JSON.parse((await run(['--json', 'history'])).stdout).entries;
  expect(history.map((e: { command: string; result: string }) => `${e.command}:${e.result}`)).toEqual(['install:ok', 'apply:ok', 'apply:unchanged']);
});

test('a manifest that cannot be resolved changes nothing and names the package', async () => {
  const before = deployments();
  const r = await run(['apply', manifest(['fx-conf', 'fx-nonesuch'])]);
  expect(r.exitCode).toBe(5);
  expect(r.stderr.split('\n').filter((l) => l.startsWith('deblayer: error:'))).toEqual([
    'deblayer: error: unknown package fx-nonesuch: not in any source of this base (deblayer refresh-md updates the lists)',
  ]);
  expect(deployments()).toEqual(before);
  writeFileSync(join(dir, 'bad.layer'), 'Base: fx/base\nBranch: fx/host\nPackages: fx-conf\nColour: blue\n');
  const bad = await run(['apply', join(dir, 'bad.layer')]);
  expect(bad.exitCode).toBe(2);
  expect(bad.stderr).toBe(`deblayer: error: ${join(dir, 'bad.layer')}:4: unknown field 'Colour' (fields: Base, Branch, Packages, Sources, Skip-Scripts, Description, Metadata-KEY)`);
});
