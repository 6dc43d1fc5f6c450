// A fleet: a builder composes a layer manifest and publishes it, a real nginx
// from Debian serves the published repository, hosts rebase onto the branch;
// when the manifest changes (one package added, one updated), compose and
// publish again, and twenty offline sysroots upgrade from the server at the
// same time. Also measured: the bytes a host's upgrade fetches with the static
// delta publish made, against the same upgrade from a copy without deltas.

import { execa } from 'execa';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, inject, test } from 'vitest';
import { buildFixtureWorld, buildPackage, fixtureSources, publishSigned, SPECS, type FixtureWorld } from './helpers/apt-repo.js';
import { deblayer } from './helpers/cli.js';
import { startNginx, type Nginx, type Served } from './helpers/nginx.js';
import { makeSysroot, type TestSysroot } from './helpers/sysroot.js';

const FLEET = 20;
/** What each host layers of its own, round robin. */
const OWN = ['fx-conf', 'fx-epoch', 'fx-mta-a', 'fx-mta-b', 'fx-oldname'];

let dir: string;
let world: FixtureWorld;
let builder: string;
let nginx: Nginx;
const hosts: { name: string; sysroot: TestSysroot; cache: string; own: string }[] = [];

const composeAndPublish = async () => {
  const composed = await deblayer(['--repo', builder, '--cache-dir', join(dir, 'builder-cache'), '--json', 'compose', join(dir, 'fleet.layer')]);
  expect(composed.exitCode, composed.stderr).toBe(0);
  const published = await deblayer(['--repo', builder, 'publish', join(dir, 'pub')]);
  expect(published.exitCode, published.stderr).toBe(0);
  return JSON.parse(composed.stdout) as { commit: string; diff: { added: { name: string }[]; changed: { name: string; from: string; to: string }[] } };
};

const onHost = (h: (typeof hosts)[number], args: string[]) => deblayer(['--sysroot', h.sysroot.path, '--cache-dir', h.cache, ...args]);

/** Runs FN on every item, at most N at a time (the machine has two cores). */
async function limited<T>(items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(Array.from({ length: n }, async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await fn(item);
  }));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'deblayer-fleet-'));
  world = await buildFixtureWorld(join(dir, 'world'), inject('fixtures').kernel!.xz!);
  builder = join(dir, 'builder');
  const imported = await deblayer(['--repo', builder, 'base', 'import', world.rootfs, '-b', 'fx/base']);
  expect(imported.exitCode, imported.stderr).toBe(0);
  // The builder's second source: the fixture packages, fx-lib 1.3 and a new tool, signed with the world's key.
  const extra = join(dir, 'extra-debs');
  const newer = [await buildPackage({ Package: 'fx-lib', Version: '1.3', Architecture: 'all' }, extra), await buildPackage({ Package: 'fx-new-tool', Version: '1.0', Architecture: 'all' }, extra)];
  const fixtureDebs = readdirSync(join(world.dir, 'debs/repo')).filter((n) => n.endsWith('.deb')).map((n) => join(world.dir, 'debs/repo', n));
  await publishSigned(join(dir, 'repo2'), [...fixtureDebs.filter((f) => !f.includes('/fx-lib_')), ...newer], world);
  writeFileSync(join(dir, 'v1.sources'), fixtureSources(`file:${world.repo}`, world.keyring));
  writeFileSync(join(dir, 'v2.sources'), fixtureSources(`file:${join(dir, 'repo2')}`, world.keyring));
  writeFileSync(join(dir, 'fleet.layer'), 'Base: fx/base\nBranch: fleet/app\nSources: v1.sources\nPackages: fx-app\n');
  await composeAndPublish();
  // The server's root: the published repository, and (made after the second publish) a copy without deltas.
  mkdirSync(join(dir, 'www'));
  symlinkSync(join(dir, 'pub'), join(dir, 'www/with'));
  symlinkSync(join(dir, 'pub-nodelta'), join(dir, 'www/without'));
  nginx = await startNginx(inject('realDebs').find((d) => d.includes('/nginx_'))!, join(dir, 'www'), join(dir, 'nginx'));
  expect(SPECS.repo.some((p) => p.Package === 'fx-lib' && p.Version === '1.2')).toBe(true);
}, 300_000);

afterAll(async () => {
  await nginx?.stop();
  for (const h of hosts) await h.sysroot.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test(`hosts rebase onto the published branch; ${FLEET} sysroots upgrade from nginx at once, each to the new commit with its own packages`, async () => {
  const names = [...Array.from({ length: FLEET }, (_, i) => `host${i}`), 'delta', 'nodelta'];
  await limited(names, 2, async (name) => {
    const i = hosts.length;
    const sysroot = await makeSysroot(join(dir, name), builder, 'fx', '128m');
    const h = { name, sysroot, cache: join(dir, `cache-${name}`), own: OWN[i % OWN.length]! };
    hosts.push(h);
    await sysroot.deploy('fx/base');
    const installed = await onHost(h, ['install', h.own]);
    expect(installed.exitCode, installed.stderr).toBe(0);
  });
  const fleet = hosts.filter((h) => h.name.startsWith('host'));
  // The measured pair rebase when the delta-less copy exists: before that, like the fleet.
  await limited(fleet, 2, async (h) => {
    const r = await onHost(h, ['rebase', '--remote', `pub=${nginx.url}with/`, '--no-gpg-verify', 'pub:fleet/app']);
    expect(r.exitCode, `${h.name}: ${r.stderr}`).toBe(0);
  });
  const first = (await execa('ostree', [`--repo=${join(dir, 'pub')}`, 'rev-parse', 'fleet/app'])).stdout.trim();
  for (const h of hosts.filter((x) => !x.name.startsWith('host'))) {
    const r = await onHost(h, ['rebase', '--remote', `pub=${nginx.url}with/`, '--no-gpg-verify', 'pub:fleet/app']);
    expect(r.exitCode, `${h.name}: ${r.stderr}`).toBe(0);
  }

  // The manifest changes: a package added, one updated (fx-lib 1.3 from the second source).
  writeFileSync(join(dir, 'fleet.layer'), 'Base: fx/base\nBranch: fleet/app\nSources: v2.sources\nPackages: fx-app, fx-new-tool\n');
  const second = await composeAndPublish();
  expect(second.diff.added.map((p) => p.name)).toEqual(['fx-new-tool']);
  expect(second.diff.changed).toEqual([{ name: 'fx-lib', from: '1.2', to: '1.3' }]);
  const pub = (args: string[], repo = join(dir, 'pub')) => execa('ostree', [`--repo=${repo}`, ...args]).then((r) => r.stdout);
  expect(await pub(['static-delta', 'list'])).toContain(`${first}-${second.commit}`);
  // The same repository without its deltas, for the measure.
  await execa('cp', ['-a', join(dir, 'pub'), join(dir, 'pub-nodelta')]);
  rmSync(join(dir, 'pub-nodelta/deltas'), { recursive: true, force: true });
  rmSync(join(dir, 'pub-nodelta/delta-indexes'), { recursive: true, force: true });
  await pub(['summary', '-u'], join(dir, 'pub-nodelta'));
  const nodelta = hosts.find((h) => h.name === 'nodelta')!;
  await execa('ostree', [`--repo=${nodelta.sysroot.path}/ostree/repo`, 'remote', 'delete', 'pub']);
  await execa('ostree', [`--repo=${nodelta.sysroot.path}/ostree/repo`, 'remote', 'add', '--no-gpg-verify', 'pub', `${nginx.url}without/`]);

  const served = (h: (typeof hosts)[number]) => async () => {
    const before = nginx.log().length;
    const r = await onHost(h, ['upgrade']);
    expect(r.exitCode, `${h.name}: ${r.stderr}`).toBe(0);
    return nginx.log().slice(before);
  };
  const withDelta = await served(hosts.find((h) => h.name === 'delta')!)();
  const withoutDelta = await served(nodelta)();
  const bytes = (log: Served[]) => log.filter((l) => l.status === 200).reduce((n, l) => n + l.bytes, 0);
  expect(withDelta.some((l) => l.path.includes('/deltas/') && l.status === 200)).toBe(true);
  expect(withoutDelta.some((l) => l.path.includes('/objects/') && l.status === 200)).toBe(true);
  console.log(
    `fleet: one host's upgrade fetched ${bytes(withDelta)} bytes in ${withDelta.length} requests with the static delta, ` +
      `${bytes(withoutDelta)} bytes in ${withoutDelta.length} requests without: ${(bytes(withDelta) / bytes(withoutDelta)).toFixed(2)} of the bytes, ` +
      `${(withDelta.length / withoutDelta.length).toFixed(2)} of the requests`,
  );

  // Twenty hosts at once.
  const started = Date.now();
  const results = await Promise.all(fleet.map((h) => onHost(h, ['--json', 'upgrade'])));
  const seconds = (Date.now() - started) / 1000;
  for (const [i, r] of results.entries()) {
    const h = fleet[i]!;
    expect(r.exitCode, `${h.name}: ${r.stderr}`).toBe(0);
    const result = JSON.parse(r.stdout) as { newBase: string; deployed: { path: string; commit: string } };
    expect(result.newBase, h.name).toBe(second.commit);
    const deployment = result.deployed.path;
    expect(readFileSync(`${deployment}.origin`, 'utf8')).toMatch(new RegExp(`^requested=${h.own};$`, 'm'));
    expect(existsSync(join(deployment, `usr/share/doc/${h.own}/marker`)), h.name).toBe(true);
    expect(existsSync(join(deployment, 'usr/share/doc/fx-new-tool/marker')), h.name).toBe(true);
    expect(readFileSync(join(deployment, 'usr/share/doc/fx-lib/marker'), 'utf8')).toBe('fx-lib 1.3\n');
    await execa('ostree', ['fsck', `--repo=${h.sysroot.path}/ostree/repo`, '--quiet']);
  }
  console.log(`fleet: ${FLEET} hosts upgraded at once in ${seconds.toFixed(1)} s; ${nginx.log().length} requests served in all`);
}, 900_000);
