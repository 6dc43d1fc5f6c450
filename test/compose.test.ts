// compose: layer manifests composed into a builder's repository. On the
// fixture world (a local signed apt repository): the continuous history on a
// branch, unchanged builds, dry runs, failures that leave the repository as it
// was, and three builds in a row through a repository archive. On the real
// Debian 12 base, with the manifests shipped in layers/: maintainer scripts
// run, a layer that stacks on another, and builds that are reproducible.

import { execa } from 'execa';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { buildFixtureWorld, fixtureSources, type FixtureWorld } from './helpers/apt-repo.js';
import { deblayer } from './helpers/cli.js';
import { serveDirectory } from './helpers/http-repo.js';
import { ostree, refs } from './helpers/ostree.js';

const LAYERS = new URL('../layers/', import.meta.url).pathname;

let dir: string;
let world: FixtureWorld;
let seed: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'deblayer-compose-'));
  world = await buildFixtureWorld(join(dir, 'world'), inject('fixtures').kernel!.xz!);
  seed = join(dir, 'seed');
  const r = await deblayer(['--repo', seed, 'base', 'import', world.rootfs, '-b', 'fx/base']);
  expect(r.exitCode, r.stderr).toBe(0);
  writeFileSync(join(dir, 'fixture.sources'), fixtureSources(`file:${world.repo}`, world.keyring));
}, 300_000);
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A manifest in DIR (next to fixture.sources) with these packages. */
function manifest(name: string, packages: string[], extra = ''): string {
  const path = join(dir, name);
  writeFileSync(path, `Base: fx/base\nBranch: fx/app\nSources: fixture.sources\nPackages: ${packages.join(', ')}\n${extra}`);
  return path;
}

/** A copy of the seed repository: cp -a, since a bare repository's objects are checksummed with their owners and xattrs. */
async function freshRepo(name: string): Promise<string> {
  const repo = join(dir, name);
  await execa('cp', ['-a', seed, repo]);
  return repo;
}

const compose = (repo: string, args: string[]) => deblayer(['--repo', repo, '--cache-dir', join(dir, 'cache'), ...args]);
const errors = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('deblayer: error:'));
const parentOf = async (repo: string, commit: string) => (await ostree(repo, ['rev-parse', `${commit}^`]).catch(() => '')).trim();

describe('compose on the fixture world', () => {
  test('commits on the branch as a child of its previous commit, prints the difference, and adds nothing when nothing changed', async () => {
    const repo = await freshRepo('history');
    const dry = await compose(repo, ['compose', manifest('one.layer', ['fx-app']), '--dry-run']);
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/The following NEW packages will be installed:\n\s+fx-app fx-extra fx-lib/);
    expect(dry.stdout).toMatch(/Would start fx\/app:\nAdded:\n {2}fx-app-1\.0\n {2}fx-extra-1\.0\n {2}fx-lib-1\.2$/);
    expect(await refs(repo)).not.toContain('fx/app');

    const first = JSON.parse((await compose(repo, ['--json', 'compose', manifest('one.layer', ['fx-app'], 'Metadata-Version: 7\n')])).stdout);
    expect(first).toMatchObject({ branch: 'fx/app', unchanged: false, diff: { added: [{ name: 'fx-app' }, { name: 'fx-extra' }, { name: 'fx-lib' }], removed: [], changed: [] } });
    expect((await ostree(repo, ['rev-parse', 'fx/app'])).trim()).toBe(first.commit);
    expect(await parentOf(repo, first.commit)).toBe('');
    const meta = (key: string, commit: string) => ostree(repo, ['show', `--print-metadata-key=${key}`, commit]).then((s) => s.trim());
    expect(await meta('version', first.commit)).toBe("'7'");
    expect(await meta('deblayer.compose.packages', first.commit)).toBe("'fx-lib=1.2 fx-app=1.0 fx-extra=1.0'");
    expect(await meta('deblayer.compose.base', first.commit)).toBe(`'${(await ostree(repo, ['rev-parse', 'fx/base'])).trim()}'`);
    // A host deploying the branch must see the packages as part of its base, not as a layer to resolve away.
    await expect(meta('deblayer.base', first.commit)).rejects.toThrow();
    const status = (await ostree(repo, ['cat', first.commit, '/usr/lib/sysimage/dpkg/status'])).toString();
    expect(status).toMatch(/Package: fx-app\nStatus: install ok installed/);
    expect((await ostree(repo, ['cat', first.commit, '/usr/share/doc/fx-app/marker'])).length).toBeGreaterThan(0);
    expect((await refs(repo)).filter((r) => r.startsWith('deblayer/compose/'))).toEqual([]);

    const again = await compose(repo, ['compose', join(dir, 'one.layer'), '--unchanged-exit-77']);
    expect(again.exitCode, again.stderr).toBe(77);
    expect(again.stdout).toBe(`No change: fx/app is still ${first.commit.slice(0, 10)} (same base commit, packages and manifest).`);

    const second = await compose(repo, ['compose', manifest('one.layer', ['fx-app', 'fx-conf'], 'Metadata-Version: 8\n')]);
    expect(second.exitCode, second.stderr).toBe(0);
    const head = (await ostree(repo, ['rev-parse', 'fx/app'])).trim();
    expect(second.stdout).toBe(
      `Committed ${head} on fx/app (parent ${first.commit.slice(0, 10)})\n  base:     fx/base (commit ${first.base.commit.slice(0, 10)})\n  packages: 4 (fx-app, fx-conf requested)\nAdded:\n  fx-conf-1.0`,
    );
    expect(await parentOf(repo, head)).toBe(first.commit);
    await execa('ostree', ['fsck', `--repo=${repo}`, '--quiet']);
  });

  test('a build that fails leaves the branch and the refs as they were, and names the package at fault', async () => {
    const repo = await freshRepo('fails');
    const before = (await refs(repo)).sort();
    const r = await compose(repo, ['compose', manifest('bad.layer', ['fx-app', 'fx-nonesuch'])]);
    expect(r.exitCode).toBe(5);
    expect(errors(r.stderr)).toEqual(['deblayer: error: unknown package fx-nonesuch: not in any source of this base (deblayer refresh-md updates the lists)']);
    const broken = await compose(repo, ['compose', manifest('broken.layer', ['fx-broken'])]);
    expect(broken.exitCode).toBe(5);
    expect(errors(broken.stderr)).toEqual(['deblayer: error: cannot satisfy fx-broken: Depends fx-missing, but it is not installable']);
    expect((await refs(repo)).filter((ref) => !ref.startsWith('deblayer/pkg/')).sort()).toEqual(before);
    const usage = await compose(repo, ['compose']);
    expect(usage.exitCode).toBe(2);
    expect(usage.stderr).toBe('deblayer: error: compose takes a MANIFEST, or --verify COMMIT');
    writeFileSync(join(dir, 'stacked.layer'), 'Base: missing.layer\nBranch: fx/top\nPackages: fx-extra\n');
    const missing = await compose(repo, ['compose', join(dir, 'stacked.layer')]);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toMatch(/missing\.layer: cannot read the layer manifest: ENOENT/);
  });

  test('three builds in a row through a repository archive: each the parent of the next, all three in the archive', async () => {
    const archive = join(dir, 'archive', 'repo.tar.gz');
    mkdirSync(join(dir, 'archive'));
    const builds: string[] = [];
    const sets = [['fx-app'], ['fx-app', 'fx-conf'], ['fx-app', 'fx-conf', 'fx-epoch']];
    for (const [i, set] of sets.entries()) {
      // The first build starts from a local repository; the others only from the archive (a CI job's fresh disk).
      const repo = i === 0 ? await freshRepo('arch-0') : join(dir, `arch-${i}`);
      const r = await compose(repo, ['--json', 'compose', manifest('arch.layer', set!), '--repo-archive', archive]);
      expect(r.exitCode, r.stderr).toBe(0);
      const result = JSON.parse(r.stdout);
      expect(result.fromArchive).toBe(i > 0);
      builds.push(result.commit);
      rmSync(repo, { recursive: true, force: true });
    }
    const unpacked = join(dir, 'unpacked');
    mkdirSync(unpacked);
    await execa('tar', ['-xzf', archive, '-C', unpacked]);
    const log = await ostree(unpacked, ['log', 'fx/app']);
    expect([...log.matchAll(/^commit ([0-9a-f]{64})$/gm)].map((m) => m[1])).toEqual([...builds].reverse());
    expect((await refs(unpacked)).filter((r) => r.startsWith('deblayer/compose/'))).toEqual([]);
    await execa('ostree', ['fsck', `--repo=${unpacked}`, '--quiet']);

    // From a URL: the build starts from the archive there, finds nothing new, and writes nothing back.
    const server = await serveDirectory(join(dir, 'archive'));
    try {
      const r = await compose(join(dir, 'from-url'), ['compose', join(dir, 'arch.layer'), '--repo-archive', `${server.url}repo.tar.gz`, '--unchanged-exit-77']);
      expect(r.exitCode, r.stderr).toBe(77);
      expect(r.stdout).toMatch(`No change: fx/app is still ${builds[2]!.slice(0, 10)}`);
      const missing = await compose(join(dir, 'from-404'), ['compose', join(dir, 'arch.layer'), '--repo-archive', `${server.url}none.tar.gz`]);
      expect(missing.exitCode).toBe(1);
      expect(errors(missing.stderr)).toEqual([`deblayer: error: --repo-archive ${server.url}none.tar.gz: the server answered 404 Not Found`]);
      expect(existsSync(join(dir, 'from-404'))).toBe(false);
    } finally {
      await server.close();
    }
  });
});

describe('compose on the real Debian 12 base, with the manifests of layers/', () => {
  let repo: string;
  let cache: string;
  beforeAll(async () => {
    repo = join(dir, 'real');
    cache = join(dir, 'real-cache');
    const r = await deblayer(['--repo', repo, 'base', 'import', inject('realBase'), '-b', 'debian/12', '--no-kernel']);
    expect(r.exitCode, r.stderr).toBe(0);
  }, 300_000);
  const real = (args: string[], r = repo) => deblayer(['--repo', r, '--cache-dir', cache, ...args]);

  test('web.layer: nginx configured by its maintainer scripts; web-tools.layer stacks on it', async () => {
    const web = await real(['--json', 'compose', join(LAYERS, 'web.layer')]);
    expect(web.exitCode, web.stderr).toBe(0);
    const commit = JSON.parse(web.stdout).commit as string;
    const status = (await ostree(repo, ['cat', commit, '/usr/lib/sysimage/dpkg/status'])).toString();
    expect(status).toMatch(/Package: nginx-light\nStatus: install ok installed/);
    expect(status).not.toMatch(/Status: install ok (unpacked|half-configured)/);
    // nginx-common's postinst makes the log directory's files; the site link comes from the package.
    expect((await ostree(repo, ['ls', commit, '/usr/etc/nginx/sites-enabled/default'])).toString()).toMatch(/-> \/etc\/nginx\/sites-available\/default/);

    const tools = await real(['--json', 'compose', join(LAYERS, 'web-tools.layer')]);
    expect(tools.exitCode, tools.stderr).toBe(0);
    const stacked = JSON.parse(tools.stdout);
    expect(stacked.base).toEqual({ ref: 'layers/web', commit });
    const toolsStatus = (await ostree(repo, ['cat', stacked.commit, '/usr/lib/sysimage/dpkg/status'])).toString();
    for (const p of ['nginx-light', 'curl', 'htop']) expect(toolsStatus).toMatch(new RegExp(`Package: ${p}\\nStatus: install ok installed`));
  });

  test('the same manifest in a fresh repository gives the same tree; --verify rebuilds a commit and finds it identical', async () => {
    const other = join(dir, 'real-again');
    expect((await deblayer(['--repo', other, 'base', 'import', inject('realBase'), '-b', 'debian/12', '--no-kernel'])).exitCode).toBe(0);
    const r = await real(['--json', 'compose', join(LAYERS, 'web.layer')], other);
    expect(r.exitCode, r.stderr).toBe(0);
    const content = async (rp: string, ref: string) => /ContentChecksum:\s+(\S+)/.exec(await ostree(rp, ['show', ref]))![1];
    expect(await content(other, 'layers/web')).toBe(await content(repo, 'layers/web'));
    rmSync(other, { recursive: true, force: true });

    const verify = await real(['--json', 'compose', '--verify', 'layers/web']);
    expect(verify.exitCode, verify.stderr).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ identical: true, differences: [] });
    const notComposed = await real(['compose', '--verify', 'debian/12']);
    expect(notComposed.exitCode).toBe(1);
    expect(notComposed.stderr).toMatch(/^deblayer: error: debian\/12 \([0-9a-f]{10}\) was not made by deblayer compose/);
  });
});
