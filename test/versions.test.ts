// Layered packages keep their versions until upgrade, as on a mutable system:
// a local repository where fxa gains newer versions between transactions.
// install and uninstall leave fxa where it is unless a request needs more;
// upgrade moves it on the same base, --check lists it, and a second upgrade
// finds nothing. The sources are this test's own repository (--source).

import { execa } from 'execa';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, inject, test } from 'vitest';
import { buildFixtureWorld, buildPackage, fixtureSources, publishSigned, type FixtureWorld, type PackageSpec } from './helpers/apt-repo.js';
import { deblayer, type CliResult } from './helpers/cli.js';
import { makeSysroot, type TestSysroot } from './helpers/sysroot.js';
import { readCurrentState, stateEnvironment } from '../src/apt/current-state.js';
import { resolveAgainstState } from '../src/apt/resolve-state.js';
import { openBaseApt } from '../src/transactions/base-apt.js';

let dir: string;
let world: FixtureWorld;
let sysroot: TestSysroot;
let sources: string;
let repoDir: string;
const debs: Record<string, string> = {};

const SPECS: PackageSpec[] = [
  { Package: 'fxa', Version: '1.0', Architecture: 'all' },
  { Package: 'fxa', Version: '2.0', Architecture: 'all' },
  { Package: 'fxa', Version: '3.0', Architecture: 'all' },
  { Package: 'fxb', Version: '1.0', Architecture: 'all', Depends: 'fxa' },
  { Package: 'fxb', Version: '2.0', Architecture: 'all', Depends: 'fxa' },
  { Package: 'fxc', Version: '1.0', Architecture: 'all', Depends: 'fxa (>= 2.0)' },
  // Two binary packages of one source, which depend on nothing.
  { Package: 'fxs-a', Source: 'fxs', Version: '1.0', Architecture: 'all' },
  { Package: 'fxs-a', Source: 'fxs', Version: '2.0', Architecture: 'all' },
  { Package: 'fxs-b', Source: 'fxs', Version: '2.0', Architecture: 'all' },
];

/** The repository holds these package versions (NAME_VERSION), besides the fixture world's packages. */
async function publishOnly(...versions: string[]): Promise<void> {
  rmSync(repoDir, { recursive: true, force: true });
  const fixtures = readdirSync(world.repo).filter((f) => f.endsWith('.deb')).map((f) => join(world.repo, f));
  await publishSigned(repoDir, [...fixtures, ...versions.map((v) => debs[v]!)], world);
}

/** publishOnly, and the lists are refreshed. */
async function publish(...versions: string[]): Promise<void> {
  await publishOnly(...versions);
  const r = await run(['refresh-md']);
  expect(r.exitCode, r.stderr).toBe(0);
}

const run = (args: string[], global: string[] = []): Promise<CliResult> =>
  deblayer(['--sysroot', sysroot.path, '--cache-dir', join(dir, 'cache'), ...global, ...args, '--source', sources]);

async function layered(): Promise<string[]> {
  const status = await execa('ostree', ['admin', 'status', `--sysroot=${sysroot.path}`]);
  // The first deployment is the default.
  const m = /^[* ] fx ([0-9a-f]{64})\.(\d+)/m.exec(status.stdout);
  const deployment = join(sysroot.path, 'ostree/deploy/fx/deploy', `${m![1]}.${m![2]}`);
  const r = await execa('dpkg-query', [`--admindir=${deployment}/usr/lib/sysimage/dpkg`, '-W', '-f', '${Package}=${Version}\n']);
  return r.stdout.split('\n').filter((l) => /^fx[a-c]=|^fxs-[ab]=|^fx-(lib|local)=/.test(l)).sort();
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'deblayer-versions-'));
  world = await buildFixtureWorld(join(dir, 'world'), inject('fixtures').kernel!.xz!);
  mkdirSync(join(dir, 'debs'));
  for (const s of SPECS) debs[`${s.Package}_${s.Version}`] = await buildPackage(s, join(dir, 'debs'));
  const repo = join(dir, 'repo');
  const r = await deblayer(['--repo', repo, 'base', 'import', world.rootfs, '-b', 'fx/base']);
  expect(r.exitCode, r.stderr).toBe(0);
  sysroot = await makeSysroot(join(dir, 'sysroot'), repo);
  await sysroot.deploy('fx/base');
  // A base deployed from a local branch: its origin is the plain ref, which upgrade follows.
  repoDir = join(dir, 'versions-repo');
  sources = join(dir, 'versions.sources');
  writeFileSync(sources, fixtureSources(`file:${repoDir}`, world.keyring));
}, 300_000);
afterAll(async () => {
  await sysroot?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('install and uninstall keep layered versions; a request that needs more upgrades; upgrade moves them on the same base', async () => {
  await publish('fxa_1.0');
  expect((await run(['install', 'fxa'])).exitCode).toBe(0);
  expect(await layered()).toEqual(['fxa=1.0']);

  // fxa 2.0 replaces 1.0 in the repository: 1.0 is left in the package cache only.
  await publish('fxa_2.0', 'fxb_1.0', 'fxc_1.0');
  const dry = await run(['install', '-n', 'fxb']);
  expect(dry.exitCode, dry.stderr).toBe(0);
  // fxa stays at 1.0 with 2.0 in the lists: apt-get counts it as not upgraded, with the base's fx-basepkg (1.0, 2.0 in the lists).
  expect(dry.stdout).toContain('The following NEW packages will be installed:\n  fxb\n0 upgraded, 1 newly installed, 0 to remove and 2 not upgraded.\n');
  expect(dry.stdout).not.toMatch(/^ {2}fxa /m);
  const installed = await run(['install', 'fxb'], ['--json']);
  expect(installed.exitCode, installed.stderr).toBe(0);
  const plan = JSON.parse(installed.stdout);
  expect(plan.packages.map((p: { name: string; version: string; current?: string }) => [p.name, p.current, p.version])).toEqual([
    ['fxa', '1.0', '1.0'],
    ['fxb', undefined, '1.0'],
  ]);
  expect(plan.resolver).toBe('libapt');
  expect(plan.deployed.imported).toEqual(['fxb']);
  expect(await layered()).toEqual(['fxa=1.0', 'fxb=1.0']);

  // A dry run of what is layered says what the real run does.
  const again = await run(['install', '-n', 'fxb', '--unchanged-exit-77']);
  expect(again.exitCode, again.stderr).toBe(77);
  expect(again.stdout).toBe('Already layered: fxb. Nothing to do.');

  // A local file goes through apt-get: fxa stays too (apt-get's own count says so), and fx-lib comes from the repository.
  const dryLocal = await run(['install', '-n', world.local['fx-local_3.0']!], ['--json']);
  expect(dryLocal.exitCode, dryLocal.stderr).toBe(0);
  expect(JSON.parse(dryLocal.stdout)).toMatchObject({ resolver: 'apt-get', notUpgraded: 2 });
  const local = await run(['install', world.local['fx-local_3.0']!]);
  expect(local.exitCode, local.stderr).toBe(0);
  expect(await layered()).toEqual(['fx-lib=1.2', 'fx-local=3.0', 'fxa=1.0', 'fxb=1.0']);

  // uninstall: fxb goes, fxa stays at 1.0 (resolved from scratch it would be 2.0).
  const dryRemove = await run(['uninstall', '-n', 'fxb']);
  expect(dryRemove.stdout).toContain('The following packages will be REMOVED:\n  fxb\n0 upgraded, 0 newly installed, 1 to remove and 2 not upgraded.\n');
  expect((await run(['uninstall', 'fxb', 'fx-local'])).exitCode).toBe(0);
  expect(await layered()).toEqual(['fxa=1.0']);

  // fxc needs fxa >= 2.0: the plan says so before anything changes, and the deploy moves it.
  const needs = await run(['install', '-n', 'fxc']);
  expect(needs.exitCode, needs.stderr).toBe(0);
  expect(needs.stdout).toContain('The following NEW packages will be installed:\n  fxc\nThe following packages will be upgraded:\n  fxa (1.0 -> 2.0)\n1 upgraded, 1 newly installed, 0 to remove and 1 not upgraded.\n');
  const fxc = await run(['install', 'fxc']);
  expect(fxc.exitCode, fxc.stderr).toBe(0);
  expect(fxc.stdout).toContain('  moved:      fxa (1.0 -> 2.0)');
  expect(await layered()).toEqual(['fxa=2.0', 'fxc=1.0']);
  const newest = await run(['upgrade', '--check']);
  expect(newest.exitCode, newest.stdout).toBe(77);

  // upgrade, the base unchanged: --check lists fxa, upgrade moves it, and then there is nothing.
  await publish('fxa_2.0', 'fxa_3.0', 'fxc_1.0');
  const check = await run(['upgrade', '--check']);
  expect(check.exitCode, check.stderr).toBe(0);
  expect(check.stdout).toMatch(/^Base [0-9a-f]{10} \(unchanged\)\n {2}fxa 2\.0 -> 3\.0$/);
  const dryUpgrade = await run(['upgrade', '--dry-run']);
  expect(dryUpgrade.stdout).toContain('The following packages will be upgraded:\n  fxa (2.0 -> 3.0)\n1 upgraded, 0 newly installed, 0 to remove and 1 not upgraded.');
  const upgraded = await run(['upgrade']);
  expect(upgraded.exitCode, upgraded.stderr).toBe(0);
  expect(upgraded.stdout).toContain('  fxa 2.0 -> 3.0');
  expect(await layered()).toEqual(['fxa=3.0', 'fxc=1.0']);
  const none = await run(['upgrade', '--check']);
  expect(none.exitCode).toBe(77);
  expect(none.stdout).toMatch(/^No upgrade available: the base is still [0-9a-f]{10}, and the layered packages are the newest their sources have\.$/);
  expect((await run(['upgrade', '--unchanged-exit-77'])).exitCode).toBe(77);

  const history = JSON.parse((await deblayer(['--sysroot', sysroot.path, '--json', 'history'])).stdout).entries;
  expect(history.map((e: { command: string; result: string }) => `${e.command}:${e.result}`)).toEqual([
    'install:ok',
    'install:ok',
    'install:ok',
    'uninstall:ok',
    'install:ok',
    'upgrade:ok',
    'upgrade:unchanged',
  ]);

  // NAME=VERSION of a layered package moves it there, as apt-get install does; the version layered now is nothing to do.
  const same = await run(['install', '-n', 'fxa=3.0', '--unchanged-exit-77']);
  expect(same.exitCode, same.stderr).toBe(77);
  expect(same.stdout).toBe('Already layered: fxa. Nothing to do.');
  const down = await run(['install', '-n', 'fxa=2.0']);
  expect(down.exitCode, down.stderr).toBe(0);
  expect(down.stdout).toContain('fxa (3.0 -> 2.0)');
  const moved = await run(['install', 'fxa=2.0']);
  expect(moved.exitCode, moved.stderr).toBe(0);
  expect(await layered()).toEqual(['fxa=2.0', 'fxc=1.0']);
  expect((await run(['install', 'fxa=3.0'])).exitCode).toBe(0);
  expect(await layered()).toEqual(['fxa=3.0', 'fxc=1.0']);
}, 600_000);

test('dropping a request another package needs, and asking for it again, change only the requests (apt-mark auto and manual): the tree stays', async () => {
  // fxa 3.0 and fxc are layered (the test before), both requested; fxc needs fxa.
  const status = async () => JSON.parse((await deblayer(['--sysroot', sysroot.path, '--json', 'status'])).stdout).deployments[0] as { checksum: string; requested: string[] };
  const tree = async (commit: string) => (await execa('ostree', [`--repo=${sysroot.path}/ostree/repo`, 'ls', '-R', '-C', commit, '/usr'])).stdout;
  const before = await status();
  for (const [args, requested] of [[['uninstall', 'fxa'], ['fxc']], [['install', 'fxa'], ['fxc', 'fxa']]] as const) {
    const r = await run([...args], ['--json', '-v']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/Building on the current state/);
    expect(r.stderr).not.toMatch(/Setting up /);
    const after = await status();
    expect(after.checksum).toBe(JSON.parse(r.stdout).deployed.commit);
    expect([...after.requested].sort()).toEqual([...requested].sort());
    expect(await tree(after.checksum)).toBe(await tree(before.checksum));
    expect(await layered()).toEqual(['fxa=3.0', 'fxc=1.0']);
  }
}, 300_000);

test('a kept package that neither the package cache nor the lists have is an error naming it when the state is derived again', async () => {
  // fxa 3.0 is layered (the test before); the repository drops it, and so does the package cache.
  await publish('fxa_2.0', 'fxb_1.0');
  await execa('ostree', [`--repo=${sysroot.path}/ostree/repo`, 'refs', '--delete', 'deblayer/pkg/fxa/3.0_all']);
  // Derived from the base, the state needs fxa's tree again (built on the current state, it would not).
  const r = await run(['install', '--rebuild', 'fxb']);
  expect(r.exitCode).toBe(8);
  expect(r.stderr.trim().split('\n').pop()).toBe(
    "deblayer: error: the layered package fxa 3.0 is neither in the package cache nor in the sources' lists any more: deblayer upgrade moves layered packages to versions the sources have",
  );
}, 300_000);

test('against a layered state, libapt plans exactly what apt-get --simulate plans: additions, moves, removals', async () => {
  // fxa 3.0 and fxc are layered (the tests before), both requested.
  await publish('fxa_2.0', 'fxa_3.0', 'fxb_1.0', 'fxc_1.0');
  const settings = { cacheDir: join(dir, 'cache'), configDir: join(dir, 'no-config'), sources: [sources] };
  const { contents, env } = await openBaseApt({ sysroot: sysroot.path }, settings, { cacheOnly: true });
  const state = (await readCurrentState(contents))!;
  expect(state.packages.map((p) => `${p.package}=${p.version}`).sort()).toEqual(['fxa=3.0', 'fxc=1.0']);
  const layered = ['fxa', 'fxc'];
  const cases = [
    { install: ['fxb'], localFiles: [], layered },
    { install: ['fx-app'], localFiles: [], layered },
    { install: ['fxa=2.0'], localFiles: [], layered },
    { install: [], localFiles: [], layered, drop: ['fxc'] },
    { install: [], localFiles: [], layered, drop: ['fxa'] },
  ];
  const summary = (p: Awaited<ReturnType<typeof resolveAgainstState>>) => ({
    packages: p.packages.map((x) => `${x.name} ${x.current ?? '-'} -> ${x.version} ${x.reason}`).sort(),
    removed: (p.removed ?? []).map((r) => `${r.name} ${r.version}`),
    requested: p.requested,
    notUpgraded: p.notUpgraded,
  });
  const results = [];
  for (const request of cases) {
    const ours = await resolveAgainstState(contents, stateEnvironment(env, contents, state), state, request);
    const apts = await resolveAgainstState(contents, stateEnvironment(env, contents, state), state, request, { resolver: 'apt-get' });
    expect([ours.resolver, apts.resolver]).toEqual(['libapt', 'apt-get']);
    expect(summary(ours), JSON.stringify(request)).toEqual(summary(apts));
    results.push(summary(ours));
  }
  expect(results.map((r) => [...r.packages, ...r.removed.map((x) => `removed ${x}`)])).toEqual([
    ['fxa 3.0 -> 3.0 requested', 'fxb - -> 1.0 requested', 'fxc 1.0 -> 1.0 requested'],
    ['fx-app - -> 1.0 requested', 'fx-extra - -> 1.0 dependency', 'fx-lib - -> 1.2 dependency', 'fxa 3.0 -> 3.0 requested', 'fxc 1.0 -> 1.0 requested'],
    ['fxa 3.0 -> 2.0 requested', 'fxc 1.0 -> 1.0 requested'],
    ['fxa 3.0 -> 3.0 requested', 'removed fxc 1.0'],
    // A dropped request that another package needs stays, as a dependency.
    ['fxa 3.0 -> 3.0 dependency', 'fxc 1.0 -> 1.0 requested'],
  ]);
}, 300_000);

test('install and uninstall start libapt on the state the last transaction deployed, before the rest of deblayer loads; a stale hint changes no plan', async () => {
  // fxa 3.0 and fxc are layered, and the repository has fxb 1.0 (the tests before).
  const traced = (args: string[], global: string[] = []) =>
    deblayer(['--sysroot', sysroot.path, '--cache-dir', join(dir, 'cache'), ...global, ...args, '--source', sources], { env: { DEBLAYER_TRACE: '1' } });
  const started = (r: CliResult) => r.stderr.split('\n').filter((l) => /^deblayer-trace: \S+ start /.test(l));
  const resolvers = (r: CliResult) => started(r).filter((l) => l.includes('apt_resolve.py'));
  /** What a --json plan changes: NAME CURRENT -> VERSION. */
  const changes = (r: CliResult) =>
    (JSON.parse(r.stdout).packages as { name: string; current?: string; version: string }[]).filter((p) => p.current !== p.version).map((p) => `${p.name} ${p.current ?? '-'} -> ${p.version}`);
  expect((await run(['install', 'fxb'])).exitCode).toBe(0);

  // The install left its new state as the hint: the uninstall's first program is libapt on it, and the only one.
  const removed = await traced(['uninstall', 'fxb']);
  expect(removed.exitCode, removed.stderr).toBe(0);
  expect(started(removed)[0]).toContain('apt_resolve.py');
  expect(resolvers(removed)).toHaveLength(1);
  expect(await layered()).toEqual(['fxa=3.0', 'fxc=1.0']);

  // A hint for another configuration: that libapt is ended unused, and the plan is the one apt makes for this state.
  const hints = join(dir, 'cache', 'next-resolve');
  const [hint] = readdirSync(hints);
  const stale = JSON.parse(readFileSync(join(hints, hint!), 'utf8')) as { options: [string, string][] };
  writeFileSync(join(hints, hint!), JSON.stringify({ ...stale, options: stale.options.map(([k, v]) => [k, k === 'APT::Install-Recommends' ? String(v !== 'true') : v]) }));
  const planned = await traced(['install', '-n', 'fxb'], ['--json']);
  expect(planned.exitCode, planned.stderr).toBe(0);
  expect(resolvers(planned)).toHaveLength(2);
  expect(changes(planned)).toEqual(['fxb - -> 1.0']);

  // fxb 2.0 is published, and the lists are refreshed by the install itself (none are marked fetched):
  // the libapt started ahead may have opened the old ones, so it is ended, and another resolves.
  await publishOnly('fxa_2.0', 'fxa_3.0', 'fxb_2.0', 'fxc_1.0');
  const lists = join(dir, 'cache', 'sources');
  for (const s of readdirSync(lists)) rmSync(join(lists, s, 'lists', '.deblayer-refreshed'), { force: true });
  const refreshed = await traced(['install', '-n', 'fxb'], ['--json']);
  expect(refreshed.exitCode, refreshed.stderr).toBe(0);
  expect(started(refreshed)[0]).toContain('apt_resolve.py');
  expect(resolvers(refreshed)).toHaveLength(2);
  expect(changes(refreshed)).toEqual(['fxb - -> 2.0']);
}, 300_000);

test('a new package of the source a layered one comes from: apt moves the layered one too, and libapt plans what apt-get plans', async () => {
  // fxa 3.0 and fxc are layered (the tests before); fxs-a 1.0 joins them.
  await publish('fxa_3.0', 'fxc_1.0', 'fxs-a_1.0');
  expect((await run(['install', 'fxs-a'])).exitCode).toBe(0);
  await publish('fxa_3.0', 'fxc_1.0', 'fxs-a_2.0', 'fxs-b_2.0');
  const settings = { cacheDir: join(dir, 'cache'), configDir: join(dir, 'no-config'), sources: [sources] };
  const { contents, env } = await openBaseApt({ sysroot: sysroot.path }, settings, { cacheOnly: true });
  const state = (await readCurrentState(contents))!;
  const request = { install: ['fxs-b'], localFiles: [], layered: ['fxa', 'fxc', 'fxs-a'] };
  const plans = [];
  for (const resolver of ['libapt', 'apt-get'] as const) {
    const plan = await resolveAgainstState(contents, stateEnvironment(env, contents, state), state, request, resolver === 'apt-get' ? { resolver } : {});
    expect(plan.resolver).toBe(resolver);
    plans.push(plan.packages.map((x) => `${x.name} ${x.current ?? '-'} -> ${x.version}`).sort());
  }
  // No dependency links fxs-b to fxs-a: apt moves fxs-a because both come from fxs.
  expect(plans[0]).toEqual(['fxa 3.0 -> 3.0', 'fxc 1.0 -> 1.0', 'fxs-a 1.0 -> 2.0', 'fxs-b - -> 2.0']);
  expect(plans[1]).toEqual(plans[0]);
  const dry = await run(['install', '-n', 'fxs-b']);
  expect(dry.exitCode, dry.stderr).toBe(0);
  expect(dry.stdout).toContain('The following packages will be upgraded:\n  fxs-a (1.0 -> 2.0)\n1 upgraded, 1 newly installed, 0 to remove and 1 not upgraded.\n');
  expect((await run(['install', 'fxs-b'])).exitCode).toBe(0);
  expect(await layered()).toEqual(['fxa=3.0', 'fxc=1.0', 'fxs-a=2.0', 'fxs-b=2.0']);
}, 300_000);

test('after a rollback, the next install starts no libapt on the state rolled away from', async () => {
  // fxs-b was installed last (the test before): its state is the hint.
  const hints = join(dir, 'cache', 'next-resolve');
  expect(readdirSync(hints)).toHaveLength(1);
  const back = await deblayer(['--sysroot', sysroot.path, '--cache-dir', join(dir, 'cache'), 'rollback']);
  expect(back.exitCode, back.stderr).toBe(0);
  expect(readdirSync(hints)).toEqual([]);
  expect(await layered()).toEqual(['fxa=3.0', 'fxc=1.0', 'fxs-a=1.0']);
  const r = await deblayer(['--sysroot', sysroot.path, '--cache-dir', join(dir, 'cache'), '--json', 'install', '-n', 'fxs-b', '--source', sources], { env: { DEBLAYER_TRACE: '1' } });
  expect(r.exitCode, r.stderr).toBe(0);
  expect(r.stderr.split('\n').filter((l) => /^deblayer-trace: \S+ start .*apt_resolve\.py/.test(l))).toHaveLength(1);
}, 300_000);

test('the automatic upgrade does what UpdatePolicy says (none, check, stage), and status shows its last run', async () => {
  // fxs-a 1.0 is layered after the rollback (the test before), 2.0 is in the lists.
  const conf = join(dir, 'conf');
  mkdirSync(conf);
  const auto = (source = sources) =>
    deblayer(['--sysroot', sysroot.path, '--cache-dir', join(dir, 'cache'), '--config-dir', conf, 'upgrade', '--trigger-automatic-update-policy', '--source', source]);
  const status = async (json = false) => {
    const r = await deblayer(['--sysroot', sysroot.path, '--config-dir', conf, ...(json ? ['--json'] : []), 'status']);
    expect(r.exitCode, r.stderr).toBe(0);
    return r;
  };
  const deployments = async () => (await execa('ostree', ['admin', 'status', `--sysroot=${sysroot.path}`])).stdout;
  expect((await status()).stdout).toMatch(/^AutomaticUpdates: disabled; no run yet\nDeployments:$/m);

  // No deblayer.conf: the policy is none, and nothing is done.
  const before = await deployments();
  const none = await auto();
  expect(none.exitCode, none.stderr).toBe(0);
  expect(none.stdout).toBe(`Automatic updates are disabled: UpdatePolicy=none (${conf}/deblayer.conf).`);
  expect((await status()).stdout).toMatch(/^AutomaticUpdates: disabled; last run \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC: nothing done \(UpdatePolicy=none\)$/m);

  // check: what would move is listed and kept; nothing is deployed.
  writeFileSync(join(conf, 'deblayer.conf'), '# automatic upgrades\n[Automatic]\nUpdatePolicy=check\n');
  const check = await auto();
  expect(check.exitCode, check.stderr).toBe(0);
  expect(check.stdout).toContain('  fxs-a 1.0 -> 2.0\n');
  expect(await deployments()).toBe(before);
  expect(await layered()).toEqual(['fxa=3.0', 'fxc=1.0', 'fxs-a=1.0']);
  expect((await status()).stdout).toMatch(/^AutomaticUpdates: check; last run .* UTC: upgrade available\n {6}Base [0-9a-f]{10} \(unchanged\)\n {8}fxs-a 1\.0 -> 2\.0\nDeployments:$/m);

  // A run that fails is kept, and fails the service (exit 8: the sources cannot be reached).
  const broken = join(dir, 'broken.sources');
  writeFileSync(broken, fixtureSources(`file:${join(dir, 'no-such-repo')}`, world.keyring));
  const failed = await auto(broken);
  expect(failed.exitCode).toBe(8);
  expect(failed.stderr).toMatch(/^deblayer: error: refresh-md failed: .*no-such-repo/m);
  expect((await status()).stdout).toMatch(/^AutomaticUpdates: check; last run .* UTC: failed: .*no-such-repo.*$/m);

  // stage: the upgrade is deployed; the run after it finds nothing.
  writeFileSync(join(conf, 'deblayer.conf'), '[Automatic]\nUpdatePolicy = stage\n');
  const stage = await auto();
  expect(stage.exitCode, stage.stderr).toBe(0);
  expect(await layered()).toEqual(['fxa=3.0', 'fxc=1.0', 'fxs-a=2.0']);
  expect((await status()).stdout).toMatch(/^AutomaticUpdates: stage; last run .* UTC: upgrade staged \([0-9a-f]{10}\.\d+\)\n {6}Base [0-9a-f]{10} \(unchanged\)\n {8}fxs-a 1\.0 -> 2\.0$/m);
  const json = JSON.parse((await status(true)).stdout);
  expect(json.automaticUpdates).toMatchObject({ policy: 'stage', config: join(conf, 'deblayer.conf'), lastRun: { policy: 'stage', outcome: 'staged', changes: [expect.stringMatching(/^Base /), '  fxs-a 1.0 -> 2.0'] } });
  const again = await auto();
  expect(again.exitCode, again.stderr).toBe(0);
  expect(again.stdout).toMatch(/^No upgrade available/);
  expect((await status()).stdout).toMatch(/^AutomaticUpdates: stage; last run .* UTC: no upgrade available\nDeployments:$/m);

  // A policy deblayer does not know: one line naming the file and line; status warns and goes on.
  writeFileSync(join(conf, 'deblayer.conf'), '[Automatic]\nUpdatePolicy=weekly\n');
  const bad = await auto();
  expect([bad.exitCode, bad.stderr]).toEqual([1, `deblayer: error: ${conf}/deblayer.conf:2: UpdatePolicy=weekly is not one of none, check, stage`]);
  const warned = await status();
  expect(warned.stderr).toBe(`deblayer: warning: ${conf}/deblayer.conf:2: UpdatePolicy=weekly is not one of none, check, stage`);
  expect(warned.stdout).toMatch(/^AutomaticUpdates: unknown \(see the warning\); last run .* UTC: no upgrade available$/m);
}, 300_000);

test('override replace NAME=VERSION plans the base package moved to a version of the sources, as apt-get install NAME=VERSION would', async () => {
  // fx-basepkg 1.0 is in the base, 2.0 in the lists.
  const dry = await run(['override', 'replace', '-n', 'fx-basepkg=2.0']);
  expect(dry.exitCode, dry.stderr).toBe(0);
  expect(dry.stdout).toMatch(/^The following base packages will be REPLACED:\n {2}fx-basepkg \(1\.0 -> 2\.0\)$/m);
  // A version the sources do not have is apt's error, naming it; the base's own version is nothing to replace.
  const missing = await run(['override', 'replace', '-n', 'fx-basepkg=9.9']);
  expect(missing.exitCode).toBe(5);
  expect(missing.stderr).toMatch(/^deblayer: error: version 9\.9 of fx-basepkg is not in the sources of this base$/m);
  const same = await run(['override', 'replace', '-n', 'fx-basepkg=1.0']);
  expect([same.exitCode, same.stderr]).toEqual([1, "deblayer: error: fx-basepkg 1.0 is the base's own version: there is nothing to replace"]);
  const noVersion = await run(['override', 'replace', '-n', 'fx-basepkg']);
  expect([noVersion.exitCode, noVersion.stderr]).toEqual([2, "deblayer: error: 'fx-basepkg': override replace takes NAME=VERSION, or a path to a .deb file"]);
  // Nothing was changed.
  expect(await layered()).toEqual(['fxa=3.0', 'fxc=1.0', 'fxs-a=2.0']);
}, 300_000);
