// deblayer base import and base info on a fixture Debian tree made with dpkg,
// checked with ostree itself.

import { execa } from 'execa';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { buildFixtureWorld, type FixtureWorld } from './helpers/apt-repo.js';
import { deblayer } from './helpers/cli.js';
import { commitListing, ostree, ostreeExitCode, refs } from './helpers/ostree.js';
import { useScratch } from './helpers/scratch.js';
import { diffSnapshots, snapshotTree } from './helpers/tree.js';

let world: FixtureWorld;
let worldDir: string;
const scratch = useScratch('import');

beforeAll(async () => {
  worldDir = mkdtempSync(join(tmpdir(), 'deblayer-world-'));
  world = await buildFixtureWorld(worldDir, inject('fixtures').kernel!.xz!);
});
afterAll(() => rmSync(worldDir, { recursive: true, force: true }));

async function importBase(repo: string, source: string, extra: string[] = [], env: Record<string, string> = {}) {
  return deblayer(['--repo', repo, '--json', 'base', 'import', source, '-b', 'fx/base', ...extra], { env });
}

describe('base import', () => {
  test('lays the tree out as an OSTree host boots it, and leaves the source untouched', async () => {
    const repo = join(scratch(), 'repo');
    const before = snapshotTree(world.rootfs);
    const r = await importBase(repo, world.rootfs);
    // The fixture kernel package ships a stand-in: imported, with a warning that it cannot boot.
    expect(r.stderr).toBe(
      'deblayer: warning: this base cannot boot: /usr/lib/modules/6.1.0-99-deblayer/vmlinuz is not a Linux kernel image; ' +
        'kernel 6.1.0-99-deblayer has no initramfs (install dracut and ostree-boot in the tree: dracut builds one that mounts the deployment)',
    );
    expect(r.exitCode).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result).toMatchObject({ branch: 'fx/base', createdRepo: true, packages: 3, dpkgDatabase: '/usr/lib/sysimage/dpkg', kernel: '6.1.0-99-deblayer', version: '1.0', bootable: false });
    expect(result.bootProblems).toHaveLength(2);
    expect(await ostree(repo, ['show', '--print-metadata-key=deblayer.bootable', 'fx/base'])).toMatch(/^'no: .*not a Linux kernel image/);
    expect(diffSnapshots(before, snapshotTree(world.rootfs))).toEqual([]);

    const ls = await commitListing(repo, 'fx/base');
    // /etc defaults in /usr/etc, no /etc; the dpkg database travels in /usr.
    expect(ls.has('/etc')).toBe(false);
    expect(ls.has('/usr/etc/passwd')).toBe(true);
    expect(ls.get('/usr/etc/os-release')).toMatch(/-> \.\.\/usr\/lib\/os-release$/);
    expect(ls.has('/usr/lib/sysimage/dpkg/status')).toBe(true);
    expect(ls.has('/usr/lib/sysimage/dpkg/info/fx-basepkg.list')).toBe(true);
    // /var is empty; the usual links into it.
    expect([...ls.keys()].filter((p) => p.startsWith('/var/'))).toEqual([]);
    for (const [link, target] of [
      ['/home', 'var/home'],
      ['/root', 'var/roothome'],
      ['/opt', 'var/opt'],
      ['/srv', 'var/srv'],
      ['/mnt', 'var/mnt'],
      ['/media', 'run/media'],
      ['/ostree', 'sysroot/ostree'],
      ['/usr/local', '../var/usrlocal'],
      ['/bin', 'usr/bin'],
    ]) {
      expect(ls.get(link!), link).toMatch(new RegExp(`^l.* -> ${target!.replace(/\./g, '\\.')}$`));
    }
    for (const dir of ['/dev', '/proc', '/sys', '/run', '/tmp', '/sysroot', '/boot']) {
      expect(ls.get(dir), dir).toMatch(/^d/);
      expect([...ls.keys()].filter((p) => p.startsWith(`${dir}/`)), dir).toEqual([]);
    }
    expect(ls.get('/tmp')).toMatch(/^d01777/);
    // The kernel where ostree admin deploy looks for it.
    expect(ls.has('/usr/lib/modules/6.1.0-99-deblayer/vmlinuz')).toBe(true);
    expect(ls.has('/usr/lib/modules/6.1.0-99-deblayer/config')).toBe(true);
    expect((await ostree(repo, ['cat', 'fx/base', '/usr/lib/modules/6.1.0-99-deblayer/vmlinuz']))).toBe('kernel');

    // /var content as tmpfiles.d lines: the dpkg link, directories with owners, files from the factory.
    const conf = await ostree(repo, ['cat', 'fx/base', '/usr/lib/tmpfiles.d/deblayer-base.conf']);
    const lines = conf.split('\n');
    expect(lines).toContain('L /var/lib/dpkg - - - - ../../usr/lib/sysimage/dpkg');
    expect(lines).toContain('d /var/lib/fx/cache 0750 fxsvc fxsvc -');
    expect(lines).toContain('C /var/lib/fx/state - - - - /usr/share/factory/var/lib/fx/state');
    expect(lines).toContain('L /var/lib/fx/current - - - - state');
    expect(lines).toContain('d /var/roothome 0755 root root -');
    expect(lines).toContain('C /var/roothome/.profile - - - - /usr/share/factory/var/roothome/.profile');
    expect(await ostree(repo, ['cat', 'fx/base', '/usr/share/factory/var/lib/fx/state'])).toBe('initial state');
    expect(await ostreeExitCode(repo, ['fsck', '--quiet'])).toBe(0);
  });

  test('a tarball gives the same tree as the directory', async () => {
    const dir = scratch();
    const tarball = join(dir, 'rootfs.tar.gz');
    await execa('tar', ['--numeric-owner', '-C', world.rootfs, '-czf', tarball, '.']);
    expect((await importBase(join(dir, 'a'), world.rootfs)).exitCode).toBe(0);
    expect((await importBase(join(dir, 'b'), tarball)).exitCode).toBe(0);
    expect(await commitListing(join(dir, 'b'), 'fx/base')).toEqual(await commitListing(join(dir, 'a'), 'fx/base'));
  });

  test('each import continues the branch, with the previous commit as parent', async () => {
    const repo = join(scratch(), 'repo');
    const first = JSON.parse((await importBase(repo, world.rootfs)).stdout);
    const second = JSON.parse((await importBase(repo, world.rootfs)).stdout);
    expect(first.parent).toBeNull();
    expect(second.parent).toBe(first.commit);
    expect((await ostree(repo, ['rev-parse', 'fx/base^'])).trim()).toBe(first.commit);
    expect((await ostree(repo, ['rev-parse', 'fx/base'])).trim()).toBe(second.commit);
  });

  test('metadata records the source and version; SOURCE_DATE_EPOCH makes the commit reproducible', async () => {
    const dir = scratch();
    const env = { SOURCE_DATE_EPOCH: '1700000000' };
    const a = JSON.parse((await importBase(join(dir, 'a'), world.rootfs, [], env)).stdout);
    const b = JSON.parse((await importBase(join(dir, 'b'), world.rootfs, [], env)).stdout);
    expect(a.commit).toBe(b.commit);
    const c = JSON.parse((await importBase(join(dir, 'c'), world.rootfs, [], { SOURCE_DATE_EPOCH: '1700000001' })).stdout);
    expect(c.commit).not.toBe(a.commit);
    const repo = join(dir, 'a');
    const meta = (key: string) => ostree(repo, ['show', `--print-metadata-key=${key}`, 'fx/base']);
    expect(await meta('ostree.version')).toBe("'1.0'");
    expect(await meta('version')).toBe("'1.0'");
    expect(await meta('deblayer.source')).toBe(`'${world.rootfs}'`);
    expect(await meta('deblayer.import-time')).toBe("'2023-11-14T22:13:20.000Z'");
    expect(await ostree(repo, ['log', 'fx/base'])).toMatch(/Date:\s+2023-11-14 22:13:20 \+0000/);
  });

  test('a tree without a kernel is refused unless --no-kernel, and nothing is left behind', async () => {
    const dir = scratch();
    const root = join(dir, 'root');
    await execa('cp', ['-a', world.rootfs, root]);
    rmSync(join(root, 'boot'), { recursive: true });
    rmSync(join(root, 'usr/lib/modules'), { recursive: true });
    const repo = join(dir, 'repo');
    const r = await importBase(repo, root);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/^deblayer: error: .*root: no kernel: .*--no-kernel/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(repo)).toBe(false);

    // An existing repository keeps exactly its refs and objects.
    expect((await importBase(repo, world.rootfs)).exitCode).toBe(0);
    const objectsBefore = readdirSync(join(repo, 'objects')).flatMap((d) => readdirSync(join(repo, 'objects', d)).map((f) => `${d}/${f}`)).sort();
    const head = await ostree(repo, ['rev-parse', 'fx/base']);
    expect((await importBase(repo, root)).exitCode).toBe(1);
    expect(await ostree(repo, ['rev-parse', 'fx/base'])).toBe(head);
    const objectsAfter = readdirSync(join(repo, 'objects')).flatMap((d) => readdirSync(join(repo, 'objects', d)).map((f) => `${d}/${f}`)).sort();
    expect(objectsAfter).toEqual(objectsBefore);
    expect(readdirSync(join(repo, 'tmp')).filter((n) => n.startsWith('deblayer-'))).toEqual([]);

    const ok = await importBase(repo, root, ['--no-kernel']);
    expect(ok.exitCode).toBe(0);
    expect(JSON.parse(ok.stdout).kernel).toBeNull();
  });

  test('bad sources get one clear line', async () => {
    const dir = scratch();
    const notDebian = join(dir, 'plain');
    mkdirSync(join(notDebian, 'usr'), { recursive: true });
    mkdirSync(join(notDebian, 'etc'));
    const cases: [string, RegExp][] = [
      [join(dir, 'missing'), /missing: no such file or directory/],
      [notDebian, /plain: not a Debian root filesystem: it has no dpkg database/],
    ];
    for (const [source, message] of cases) {
      const r = await importBase(join(dir, 'repo'), source);
      expect(r.exitCode, source).toBe(1);
      expect(r.stderr, source).toMatch(message);
      expect(r.stderr.trim().split('\n'), source).toHaveLength(1);
    }
    const r = await deblayer(['--repo', join(dir, 'repo'), 'base', 'import', world.rootfs, '-b', 'bad ref!']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/invalid branch name 'bad ref!'/);
  });

  test('a tree that is not merged-/usr is refused', async () => {
    const dir = scratch();
    const root = join(dir, 'root');
    await execa('cp', ['-a', world.rootfs, root]);
    rmSync(join(root, 'bin'));
    mkdirSync(join(root, 'bin'));
    const r = await importBase(join(dir, 'repo'), root);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/\/bin is a directory, not a link into \/usr: OSTree bases need a merged \/usr/);
  });
});

describe('image', () => {
  test('refuses a commit that cannot boot, naming what is missing, and leaves nothing behind', async () => {
    const dir = scratch();
    const repo = join(dir, 'repo');
    expect((await importBase(repo, world.rootfs)).exitCode).toBe(0);
    // A temporary directory of its own: other test files make images in the shared one at the same time.
    const tmp = join(dir, 'tmp');
    mkdirSync(tmp);
    const out = join(dir, 'disk.img');
    const r = await deblayer(['--repo', repo, 'image', 'fx/base', '-o', out], { env: { TMPDIR: tmp } });
    expect(r.exitCode).toBe(1);
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('deblayer: error:'));
    expect(errors).toEqual([expect.stringMatching(/^deblayer: error: fx\/base \([0-9a-f]{10}\) cannot boot: \/usr\/lib\/modules\/6\.1\.0-99-deblayer\/vmlinuz is not a Linux kernel image; kernel 6\.1\.0-99-deblayer has no initramfs/)]);
    expect(readdirSync(dir).sort()).toEqual(['repo', 'tmp']);
    expect(readdirSync(tmp)).toEqual([]);
  });

  test('a layered state that follows a remote needs that remote named', async () => {
    const dir = scratch();
    const repo = join(dir, 'repo');
    expect((await importBase(repo, world.rootfs)).exitCode).toBe(0);
    // A state as a host that upgrades from remote "os" layers it (its origin in the commit metadata).
    await ostree(repo, ['commit', '-b', 'deblayer/state/1', '--tree=ref=fx/base', '--add-metadata-string=deblayer.origin=[origin]\nbaserefspec=os:fx/base\n[packages]\nrequested=fx-lib;\n']);
    const r = await deblayer(['--repo', repo, 'image', 'deblayer/state/1', '-o', join(dir, 'a.img')]);
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).toBe("deblayer: error: the origin follows remote 'os' (os:fx/base): give the image that remote with --remote os=URL");
  });

  test('a layered state with a local package needs its .deb, which the image carries for the booted machine', async () => {
    const dir = scratch();
    const repo = join(dir, 'repo');
    expect((await importBase(repo, world.rootfs)).exitCode).toBe(0);
    await ostree(repo, ['commit', '-b', 'deblayer/state/1', '--tree=ref=fx/base', '--add-metadata-string=deblayer.origin=[origin]\nbaserefspec=fx/base\n[packages]\nrequested-local=fx-local_3.0_all;\n']);
    const cache = join(dir, 'cache');
    const r = await deblayer(['--repo', repo, '--cache-dir', cache, 'image', 'deblayer/state/1', '-o', join(dir, 'a.img')]);
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.stderr).toBe(
      `deblayer: error: the layered local package fx-local_3.0_all is not in ${cache}/local: the booted machine needs its .deb to recompose the layer (give the --cache-dir it was installed with)`,
    );
    expect(readdirSync(dir).sort()).toEqual(['repo']);
  });

  test('bad arguments get one line and status 2', async () => {
    const dir = scratch();
    const repo = join(dir, 'repo');
    expect((await importBase(repo, world.rootfs)).exitCode).toBe(0);
    const cases: [string[], RegExp][] = [
      [['fx/none', '-o', join(dir, 'a.img')], /'fx\/none' names no commit in /],
      [['fx/base', '-o', join(dir, 'a.img'), '--remote', 'no-url'], /--remote wants NAME=URL, not 'no-url'/],
      [['fx/base', '-o', join(dir, 'a.img'), '--size', 'big'], /invalid size 'big'/],
      [['fx/base', '-o', join(dir, 'missing/a.img')], /missing: no such directory/],
      [['fx/base', '-o', dir], /exists and is not a regular file/],
    ];
    for (const [args, message] of cases) {
      const r = await deblayer(['--repo', repo, 'image', ...args]);
      expect(r.exitCode, r.stderr).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});

describe('base info', () => {
  test('finds the dpkg database wherever the base keeps it', async () => {
    const dir = scratch();
    const repo = join(dir, 'repo');
    expect((await importBase(repo, world.rootfs, ['--dpkg-database', 'usr/share/dpkg/database'])).exitCode).toBe(0);
    const info = JSON.parse((await deblayer(['--repo', repo, '--json', 'base', 'info', 'fx/base', '--packages'])).stdout);
    expect(info.dpkgDatabase).toEqual({ path: '/usr/share/dpkg/database', foundBy: 'commit metadata' });
    expect(info.packageCount).toBe(3);
    expect(info.packages.map((p: { name: string }) => p.name).sort()).toEqual(['deblayer-fixture-kernel', 'fx-base-files', 'fx-basepkg']);
    expect(info.osRelease).toMatchObject({ ID: 'deblayer-fixture', VERSION_ID: '1.0' });

    // Commits made by other tools: no deblayer metadata, the database in one
    // of the known places, or only where a tmpfiles.d link says.
    const checkout = join(dir, 'co');
    await ostree(repo, ['checkout', '--user-mode', 'fx/base', checkout]);
    const variants: [string, (root: string) => void, RegExp | string][] = [
      ['known', (root) => {
        mkdirSync(join(root, 'usr/rootdirs/var/lib'), { recursive: true });
        renameSync(join(root, 'usr/share/dpkg/database'), join(root, 'usr/rootdirs/var/lib/dpkg'));
      }, '/usr/rootdirs/var/lib/dpkg'],
      ['tmpfiles', (root) => {
        renameSync(join(root, 'usr/share/dpkg/database'), join(root, 'usr/lib/my-dpkg'));
        // An earlier line that points nowhere (a stale one) is skipped.
        writeFileSync(join(root, 'usr/lib/tmpfiles.d/zz-dpkg.conf'), 'L+ /var/lib/dpkg - - - - ../../usr/lib/my-dpkg\n');
      }, '/usr/lib/my-dpkg'],
      ['none', (root) => rmSync(join(root, 'usr/share/dpkg/database'), { recursive: true }), /has no dpkg database/],
    ];
    for (const [name, change, expected] of variants) {
      const root = join(dir, name);
      await execa('cp', ['-a', checkout, root]);
      change(root);
      await ostree(repo, ['commit', '-b', `other/${name}`, `--tree=dir=${root}`]);
      const r = await deblayer(['--repo', repo, '--json', 'base', 'info', `other/${name}`]);
      if (typeof expected === 'string') {
        expect(r.stderr, name).toBe('');
        expect(JSON.parse(r.stdout).dpkgDatabase.path, name).toBe(expected);
        expect(JSON.parse(r.stdout).packageCount, name).toBe(3);
      } else {
        expect(r.exitCode, name).toBe(1);
        expect(r.stderr, name).toMatch(expected);
      }
    }
    expect(await refs(repo)).toEqual(['fx/base', 'other/known', 'other/none', 'other/tmpfiles']);
  });

  test('human output names the OS, the package count and the database', async () => {
    const repo = join(scratch(), 'repo');
    await importBase(repo, world.rootfs);
    const r = await deblayer(['--repo', repo, 'base', 'info', 'fx/base']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/OS: +deblayer fixture base 1\.0/);
    expect(r.stdout).toMatch(/Packages: +3 installed/);
    expect(r.stdout).toMatch(/dpkg database: \/usr\/lib\/sysimage\/dpkg/);
    expect(r.stdout).toMatch(/Bootable: +no: \/usr\/lib\/modules\/6\.1\.0-99-deblayer\/vmlinuz is not a Linux kernel image; /);
    const missing = await deblayer(['--repo', repo, 'base', 'info', 'no/such/ref']);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toBe(`deblayer: error: no ref or commit 'no/such/ref' in ${repo}`);
  });
});
