// Resolution and fetching with apt against a fixture base, from a local
// repository signed by a throwaway key: the plan, apt's refusals shortened to
// one line, signatures, local files and the offline cache.

import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { buildFixtureWorld, fixtureSources, type FixtureWorld } from './helpers/apt-repo.js';
import { deblayer, type CliResult } from './helpers/cli.js';
import { useScratch } from './helpers/scratch.js';
import { serveDirectory } from './helpers/http-repo.js';
import { mkdirSync } from 'node:fs';
import { openBaseApt } from '../src/transactions/base-apt.js';
import { resolvePlan } from '../src/apt/resolve.js';

let world: FixtureWorld;
let dir: string;
let repo: string;
const scratch = useScratch('resolve');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'deblayer-resolve-world-'));
  world = await buildFixtureWorld(dir, inject('fixtures').kernel!.xz!);
  repo = join(dir, 'ostree-repo');
  const r = await deblayer(['--repo', repo, 'base', 'import', world.rootfs, '-b', 'fx/base']);
  expect(r.exitCode, r.stderr).toBe(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface PlanJson {
  requested: string[];
  inactive: string[];
  packages: { name: string; version: string; reason: string; requiredBy?: string; relation?: string; origin: string; downloadSize: number; installedSize: number; source: { kind: string; path?: string; filename?: string } }[];
  downloadSize: number;
  files?: Record<string, string>;
  downloaded?: string[];
  cached?: string[];
}

function run(cache: string, args: string[], global: string[] = []): Promise<CliResult> {
  return deblayer(['--repo', repo, '--cache-dir', cache, ...global, ...args]);
}

async function plan(cache: string, args: string[]): Promise<PlanJson> {
  const r = await run(cache, ['install', '--base', 'fx/base', ...args], ['--json']);
  expect(r.exitCode, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as PlanJson;
}

/** The fixture base and its apt environment, with a cache of its own, for resolvePlan itself. */
function fixtureBaseApt() {
  const cache = scratch();
  return openBaseApt({ sysroot: '/nonexistent', repo, base: 'fx/base' }, { cacheDir: cache, configDir: join(cache, 'no-config') });
}

const names = (p: PlanJson) => p.packages.map((x) => `${x.name}=${x.version}`).sort();

describe('resolving', () => {
  test('picks dependencies and recommends, and says why each is there', async () => {
    const cache = scratch();
    const p = await plan(cache, ['-n', 'fx-app']);
    expect(names(p)).toEqual(['fx-app=1.0', 'fx-extra=1.0', 'fx-lib=1.2']);
    const by = Object.fromEntries(p.packages.map((x) => [x.name, x]));
    expect(by['fx-app']).toMatchObject({ reason: 'requested' });
    expect(by['fx-lib']).toMatchObject({ reason: 'dependency', requiredBy: 'fx-app', relation: 'Depends' });
    expect(by['fx-extra']).toMatchObject({ reason: 'dependency', requiredBy: 'fx-app', relation: 'Recommends' });
    for (const x of p.packages) {
      expect(x.downloadSize).toBe(readFileSync(join(world.repo, x.source.filename!)).length);
      expect(x.installedSize).toBeGreaterThan(0);
    }
    expect(p.downloadSize).toBe(p.packages.reduce((a, x) => a + x.downloadSize, 0));
    // No network was needed for a plan, but the lists were fetched once for it.
    expect(readdirSync(join(cache, 'archives')).filter((f) => f.endsWith('.deb'))).toEqual([]);

    const without = await plan(cache, ['-n', '--no-install-recommends', 'fx-app']);
    expect(names(without)).toEqual(['fx-app=1.0', 'fx-lib=1.2']);
  });

  test('prints the plan the way apt does', async () => {
    const cache = scratch();
    const r = await run(cache, ['install', '-n', '--base', 'fx/base', 'fx-app']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('The following additional packages will be installed:\n  fx-lib fx-extra\n');
    expect(r.stdout).toContain('The following NEW packages will be installed:\n  fx-app fx-extra fx-lib\n');
    // The repository has fx-basepkg 2.0, the base 1.0: apt counts it as not upgraded.
    expect(r.stdout).toContain('0 upgraded, 3 newly installed, 0 to remove and 1 not upgraded.\n');
    expect(r.stdout).toMatch(/^Need to get \d+ B of archives\.$/m);
    expect(r.stdout).toMatch(/^After this operation, [\d.]+ kB of additional disk space will be used\.$/m);
    expect(r.stdout).toMatch(/^ {2}fx-lib +1\.2 +all .*\(Depends of fx-app\)$/m);
    // The lists were missing, so they were refreshed first, with apt's progress on stderr.
    expect(r.stderr).toMatch(/refreshing/);
    expect(r.stderr).toMatch(/^Get:\d+ file:.* InRelease/m);
  });

  test('refuses plans that would change the base, naming the base package and who needs it', async () => {
    const cache = scratch();
    const cases: [string[], RegExp, number][] = [
      [['fx-needs-new'], /^deblayer: error: fx-needs-new needs fx-basepkg \(>= 2\.0\), but the base has fx-basepkg 1\.0: .*upgrade the base first$/, 7],
      [['fx-conflicts'], /^deblayer: error: fx-conflicts conflicts with fx-basepkg, and the base has fx-basepkg 1\.0: /, 7],
      [['fx-basepkg'], /^deblayer: error: package fx-basepkg is already in the base \(1\.0\): nothing to layer/, 5],
      [['fx-basepkg=2.0'], /^deblayer: error: fx-basepkg=2\.0 would replace the base's fx-basepkg 1\.0: a layer cannot upgrade or downgrade base packages \(deblayer override replace fx-basepkg=2\.0 does\)$/, 7],
      [[world.local['fx-basepkg_3.0']!], /fx-basepkg_3\.0_all\.deb: package fx-basepkg 3\.0 would replace the base's fx-basepkg 1\.0/, 7],
    ];
    // Exit status 7: the base is too old (or too new); 5: nothing to resolve.
    for (const [args, message, status] of cases) {
      const r = await run(cache, ['install', '-n', '--base', 'fx/base', ...args]);
      expect(r.exitCode, args.join(' ')).toBe(status);
      expect(r.stderr.split('\n').filter((l) => l.startsWith('deblayer:'))).toHaveLength(1);
      expect(r.stderr.split('\n').find((l) => l.startsWith('deblayer:')), args.join(' ')).toMatch(message);
    }
  });

  test("unknown, virtual and unsatisfiable requests give apt's reason in one line", async () => {
    const cache = scratch();
    const cases: [string[], string][] = [
      [['no-such-package'], 'deblayer: error: unknown package no-such-package: not in any source of this base (deblayer refresh-md updates the lists)'],
      [['fx-broken'], 'deblayer: error: cannot satisfy fx-broken: Depends fx-missing, but it is not installable'],
      [['not a name'], "deblayer: error: 'not a name' is not a package name (NAME, NAME=VERSION or NAME:ARCH), nor a path to a .deb file"],
      [['./missing.deb'], 'deblayer: error: ./missing.deb: no such file'],
    ];
    for (const [args, message] of cases) {
      const r = await run(cache, ['install', '-n', '--base', 'fx/base', ...args]);
      expect(r.exitCode, args.join(' ')).toBeGreaterThan(0);
      expect(r.stderr.trim().split('\n').pop(), args.join(' ')).toBe(message);
    }
    const virtual = await run(cache, ['install', '-n', '--base', 'fx/base', 'fx-mta']);
    expect(virtual.exitCode).toBe(5);
    expect(virtual.stderr).toMatch(/^deblayer: error: fx-mta is a virtual package provided by (fx-mta-a, fx-mta-b|fx-mta-b, fx-mta-a): request one of them$/m);
  });

  test('--allow-inactive keeps a request the base already satisfies', async () => {
    const p = await plan(scratch(), ['-n', '--allow-inactive', 'fx-basepkg', 'fx-lib']);
    expect(p.inactive).toEqual(['fx-basepkg']);
    expect(names(p)).toEqual(['fx-lib=1.2']);
  });

  test('local .deb files are planned with their dependencies from the repository', async () => {
    const p = await plan(scratch(), ['-n', world.local['fx-local_3.0']!, 'fx-epoch']);
    expect(names(p)).toEqual(['fx-epoch=1:2.0-1', 'fx-lib=1.2', 'fx-local=3.0']);
    const local = p.packages.find((x) => x.name === 'fx-local')!;
    expect(local).toMatchObject({ reason: 'requested', origin: 'local file', source: { kind: 'local', path: world.local['fx-local_3.0'] } });
    // apt-get reads local files; libapt is left to archive requests.
    expect((p as PlanJson & { resolver: string }).resolver).toBe('apt-get');
  });
});

describe('signatures', () => {
  test('an unsigned repository, or one signed by an unknown key, is refused unless --allow-unauthenticated', async () => {
    const keyring = world.keyring;
    for (const [label, repoDir] of [
      ['unsigned', world.unsignedRepo],
      ['other key', world.otherKeyRepo],
    ] as const) {
      const cache = scratch();
      const sources = join(cache, 'test.sources');
      writeFileSync(sources, fixtureSources(`file:${repoDir}`, keyring));
      const r = await run(cache, ['refresh-md', '--base', 'fx/base', '--source', sources]);
      expect(r.exitCode, label).toBe(8);
      expect(r.stderr.trim().split('\n').pop(), label).toMatch(/^deblayer: error: refresh-md failed: .*(not signed|NO_PUBKEY|signatures).*--allow-unauthenticated/);
      const denied = await run(cache, ['install', '-n', '--base', 'fx/base', '--source', sources, 'fx-lib']);
      expect(denied.exitCode, label).toBe(8);

      const allowed = await run(cache, ['install', '-n', '--base', 'fx/base', '--source', sources, '--allow-unauthenticated', 'fx-lib'], ['--json']);
      expect(allowed.exitCode, `${label}: ${allowed.stderr}`).toBe(0);
      expect(names(JSON.parse(allowed.stdout))).toEqual(['fx-lib=1.2']);
    }
  });

  test('refresh-md uses the base\'s sources and keys, and shows progress', async () => {
    const cache = scratch();
    const r = await run(cache, ['refresh-md', '--base', 'fx/base']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^Get:\d+ file:.*\/repo \.\/ InRelease/m);
    expect(r.stdout).toMatch(/^Package lists for fx\/base are up to date \(the base's \/usr\/etc\/apt, /);
    // The private configuration holds the base's key, with Signed-By rewritten to it.
    const [sources] = readdirSync(join(cache, 'sources'));
    const etc = join(cache, 'sources', sources!, 'etc');
    expect(readFileSync(join(etc, 'sources.list.d', 'fixture.sources'), 'utf8')).toContain(`Signed-By: ${etc}/keyrings/0-deblayer-fixture.gpg`);
    expect(readFileSync(join(etc, 'keyrings', '0-deblayer-fixture.gpg'))).toEqual(readFileSync(world.keyring));
  });
});

describe('fetching', () => {
  test('downloads into the cache once, then works offline with --cache-only', async () => {
    const cache = scratch();
    const http = await serveDirectory(world.repo);
    let online = true;
    try {
      const sources = join(cache, 'http.sources');
      writeFileSync(sources, fixtureSources(http.url.replace(/\/$/, ''), world.keyring));
      const args = (...more: string[]) => ['--base', 'fx/base', '--source', sources, ...more];
      const first = await plan(cache, ['--download-only', ...args('fx-app')]);
      expect([...first.downloaded!].sort()).toEqual(['fx-app', 'fx-extra', 'fx-lib']);
      for (const [key, file] of Object.entries(first.files!)) {
        const name = key.replace(/:.*$/, '');
        expect(readFileSync(file), key).toEqual(readFileSync(join(world.repo, first.packages.find((x) => x.name === name)!.source.filename!)));
      }
      expect(http.requests.filter((r) => r.endsWith('.deb')).sort()).toEqual([
        '/fx-app_1.0_all.deb',
        '/fx-extra_1.0_all.deb',
        '/fx-lib_1.2_all.deb',
      ]);
      const again = await plan(cache, ['--download-only', ...args('fx-app')]);
      expect(again.downloaded).toEqual([]);
      expect([...again.cached!].sort()).toEqual(['fx-app', 'fx-extra', 'fx-lib']);
      expect(http.requests.filter((r) => r.endsWith('.deb'))).toHaveLength(3);

      // The mirror goes away: the cache is enough.
      await http.close();
      online = false;
      const offline = await plan(cache, ['--download-only', '--cache-only', ...args('fx-app')]);
      expect(names(offline)).toEqual(names(first));
      expect(offline.downloaded).toEqual([]);
      rmSync(join(cache, 'archives', 'fx-lib_1.2_all.deb'));
      const missing = await run(cache, ['install', '--download-only', '--cache-only', ...args('fx-app')]);
      expect(missing.exitCode).toBe(8);
      expect(missing.stderr.trim().split('\n').pop()).toBe(
        `deblayer: error: --cache-only: 1 package file is not in ${join(cache, 'archives')}: fx-lib_1.2_all.deb`,
      );
      // Without --cache-only the mirror is tried, and its failure named.
      const broken = await run(cache, ['install', '--download-only', ...args('fx-app')]);
      expect(broken.exitCode).toBe(8);
      expect(broken.stderr.trim().split('\n').pop()).toMatch(/^deblayer: error: download failed: .*fx-lib/);
    } finally {
      if (online) await http.close();
    }
  });

  test('--cache-only with no cached lists says to refresh', async () => {
    const cache = scratch();
    const r = await run(cache, ['install', '-n', '--cache-only', '--base', 'fx/base', 'fx-lib']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/^deblayer: error: --cache-only: no package lists are cached for the sources of fx\/base .*run deblayer refresh-md first$/m);
    expect(existsSync(join(cache, 'archives'))).toBe(true);
  });

  test('a cached file that does not match the lists is reported', async () => {
    const cache = scratch();
    await plan(cache, ['--download-only', 'fx-lib']);
    // Same size (apt itself drops cached files of the wrong size), other bytes.
    const file = join(cache, 'archives', 'fx-lib_1.2_all.deb');
    writeFileSync(file, Buffer.alloc(readFileSync(file).length, 'x'));
    const r = await run(cache, ['install', '--download-only', '--cache-only', '--base', 'fx/base', 'fx-lib']);
    expect(r.exitCode).toBe(8);
    expect(r.stderr).toMatch(/fx-lib_1\.2_all\.deb does not match the SHA256 in the package lists/);
  });

  test('an epoch is escaped in the cached file name as apt does', async () => {
    const cache = scratch();
    const p = await plan(cache, ['--download-only', 'fx-epoch']);
    expect(p.files!['fx-epoch:all']).toBe(join(cache, 'archives', 'fx-epoch_1%3a2.0-1_all.deb'));
    cpSync(p.files!['fx-epoch:all']!, join(cache, 'copy.deb'));
    const info = await deblayer(['--json', 'deb', 'info', join(cache, 'copy.deb')]);
    expect(info.exitCode, info.stderr).toBe(0);
    // The file under its escaped name is the package with the epoch in its version.
    expect(JSON.parse(info.stdout).control).toMatchObject({ package: 'fx-epoch', version: '1:2.0-1' });
  });
});

describe('the layered set', () => {
  test('dropping a package re-resolves what stays layered, from the base', async () => {
    const { contents, env } = await fixtureBaseApt();
    const request = { install: [], localFiles: [], layered: ['fx-app', 'fx-epoch'] };
    const all = await resolvePlan(contents, env, request);
    expect(all.packages.map((p) => p.name).sort()).toEqual(['fx-app', 'fx-epoch', 'fx-extra', 'fx-lib']);
    const dropped = await resolvePlan(contents, env, { ...request, drop: ['fx-app'] });
    expect(dropped.requested).toEqual(['fx-epoch']);
    // fx-extra came only with fx-app; fx-lib stays as fx-epoch's dependency.
    expect(dropped.packages.map((p) => `${p.name}:${p.reason}:${p.requiredBy ?? ''}`).sort()).toEqual([
      'fx-epoch:requested:',
      'fx-lib:dependency:fx-epoch',
    ]);
    await expect(resolvePlan(contents, env, { ...request, drop: ['fx-lib'] })).rejects.toThrow(
      'package fx-lib is not layered: there is nothing to remove',
    );
  });
});

describe('where sources come from', () => {
  test('sources in the config directory replace the base\'s; --source replaces both', async () => {
    const cache = scratch();
    const config = join(cache, 'etc-deblayer');
    mkdirSync(join(config, 'sources.list.d'), { recursive: true });
    // One-line format with [signed-by=...] naming a key on the host.
    writeFileSync(join(config, 'sources.list.d', 'mirror.list'), `deb [signed-by=${world.keyring}] file:${world.otherKeyRepo} ./\n`);
    const viaConfig = await run(cache, ['refresh-md', '--base', 'fx/base'], ['--config-dir', config]);
    // That mirror is signed by another key: the error proves the config directory's source was used.
    expect(viaConfig.exitCode).toBe(8);
    expect(viaConfig.stderr).toContain(`file:${world.otherKeyRepo} ./ InRelease`);

    writeFileSync(join(config, 'sources.list.d', 'mirror.list'), `deb [signed-by=${world.keyring}] file:${world.repo} ./\n`);
    const ok = await run(cache, ['refresh-md', '--base', 'fx/base'], ['--config-dir', config]);
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(ok.stdout).toContain(`(${config}, `);

    const line = `deb [signed-by=${world.keyring}] file:${world.repo} ./`;
    const viaOption = await run(cache, ['install', '-n', '--base', 'fx/base', '--source', line, 'fx-lib'], ['--config-dir', config, '--json']);
    expect(viaOption.exitCode, viaOption.stderr).toBe(0);
    expect(names(JSON.parse(viaOption.stdout))).toEqual(['fx-lib=1.2']);
  });
});

test('install that would deploy needs a sysroot deployment, not --base, and says so before any network use', async () => {
  const cache = scratch();
  const r = await run(cache, ['install', '--base', 'fx/base', 'fx-lib']);
  expect(r.exitCode).toBe(2);
  expect(r.stderr).toBe('deblayer: error: install deploys onto a sysroot deployment: with --base, use --dry-run or --download-only');
  expect(existsSync(join(cache, 'sources'))).toBe(false);
});

describe('libapt and apt-get', () => {
  test('libapt plans exactly what apt-get --simulate plans, dependencies first', async () => {
    const { contents, env } = await fixtureBaseApt();
    for (const install of [['fx-app'], ['fx-epoch', 'fx-app'], ['fx-newname', 'fx-oldname'], ['fx-lib=1.2', 'fx-conf']]) {
      const request = { install, localFiles: [] };
      const ours = await resolvePlan(contents, env, request);
      const apts = await resolvePlan(contents, env, request, { resolver: 'apt-get' });
      const byName = (p: typeof ours) => [...p.packages].sort((a, b) => a.name.localeCompare(b.name));
      expect(byName(ours), install.join(' ')).toEqual(byName(apts));
      expect([ours.resolver, apts.resolver]).toEqual(['libapt', 'apt-get']);
      expect({ ...ours, packages: [], resolver: '' }).toEqual({ ...apts, packages: [], resolver: '' });
      // fx-basepkg, 2.0 in the repository and 1.0 in the base, by both counts.
      expect(ours.notUpgraded).toBe(1);
      const at = new Map(ours.packages.map((p, i) => [p.name, i]));
      for (const p of ours.packages) {
        if (p.relation === 'Depends') expect(at.get(p.name)!, `${p.name} before ${p.requiredBy}`).toBeLessThan(at.get(p.requiredBy!)!);
      }
    }
  });
});
