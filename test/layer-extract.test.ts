// deblayer deb extract --layer on real .deb files: the OSTree layer tree, its
// tmpfiles.d fragment, and a manifest whose file list and md5sums are what dpkg
// itself records when it unpacks the same package.

import { execa } from 'execa';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { decodeName } from '../src/vocabulary/file-names.js';
import { deblayer } from './helpers/cli.js';
import { useScratch } from './helpers/scratch.js';

const fixtures = inject('fixtures');
const tempDir = useScratch('layer');

interface Manifest {
  package: string;
  files: string[];
  md5sums: Record<string, string>;
  conffiles: { path: string; flags: string[] }[];
  tmpfiles: string[];
  tmpfilesConf?: string;
}

async function layer(deb: string, dir: string): Promise<Manifest> {
  const r = await deblayer(['--json', 'deb', 'extract', '--layer', deb, dir]);
  expect(r.stderr).toBe('');
  expect(r.exitCode).toBe(0);
  return JSON.parse(r.stdout) as Manifest;
}

/** Unpack with the real dpkg into a scratch root and read what it recorded. */
async function dpkgRecords(deb: string, pkg: string): Promise<{ list: string[]; md5sums: Record<string, string> }> {
  const root = tempDir();
  mkdirSync(join(root, 'var/lib/dpkg/info'), { recursive: true });
  mkdirSync(join(root, 'var/lib/dpkg/updates'), { recursive: true });
  await execa('touch', [join(root, 'var/lib/dpkg/status')]);
  await execa('dpkg', [`--root=${root}`, '--force-depends', '--force-script-chrootless', '--unpack', deb], { env: { LC_ALL: 'C' } });
  const info = join(root, 'var/lib/dpkg/info');
  // dpkg's files hold names as bytes; decode them as deblayer does (lossless).
  const lines = (f: string) => decodeName(readFileSync(join(info, f))).trim().split('\n');
  const list = lines(`${pkg}.list`);
  const md5sums: Record<string, string> = {};
  for (const line of lines(`${pkg}.md5sums`)) {
    const [sum, ...path] = line.split('  ');
    md5sums[`/${path.join('  ')}`] = sum!;
  }
  return { list, md5sums };
}

describe('deb extract --layer', () => {
  it('lays out the all-types fixture for OSTree', async () => {
    const dir = tempDir();
    const m = await layer(fixtures.all!.xz!, dir);
    // Only /usr reaches the commit.
    expect(readdirSync(dir)).toEqual(['usr']);
    const F = 'deblayer-fixture';
    expect(readFileSync(join(dir, `usr/etc/${F}/main.conf`), 'utf8')).toBe('setting = 1\n');
    expect(statSync(join(dir, `usr/etc/${F}/secret.conf`)).mode & 0o7777).toBe(0o600);
    expect(statSync(join(dir, `usr/bin/${F}-suid`)).mode & 0o7777).toBe(0o4755);
    // /var files travel in the factory with their mode, owner and hardlinks.
    const state = statSync(join(dir, `usr/share/factory/var/lib/${F}/state`));
    expect([state.mode & 0o7777, state.uid, state.gid]).toEqual([0o640, 1, 1]);
    expect(statSync(join(dir, `usr/share/factory/var/lib/${F}/state-hardlink`)).ino).toBe(state.ino);
    expect(existsSync(join(dir, `usr/lib/opt/${F}/bin/tool`))).toBe(true);
    expect(existsSync(join(dir, `usr/share/factory/var/srv/${F}/index.html`))).toBe(true);
    expect([...m.tmpfiles].sort()).toEqual([
      `d /var/lib/${F} 0750 daemon daemon -`,
      `C /var/lib/${F}/state - - - - /usr/share/factory/var/lib/${F}/state`,
      `C /var/lib/${F}/state-hardlink - - - - /usr/share/factory/var/lib/${F}/state-hardlink`,
      `p /var/lib/${F}/fifo 0620 root root -`,
      `c /var/lib/${F}/null 0666 root root - 1:3`,
      `b /var/lib/${F}/loop 0660 root disk - 7:0`,
      `d /var/log/${F} 2750 root adm -`,
      `L /var/lib/${F}/current - - - - state`,
      `d /var/usrlocal/share 0755 root root -`,
      `d /var/usrlocal/share/${F} 0755 root root -`,
      `L /var/opt/${F} - - - - /usr/lib/opt/${F}`,
      `d /var/srv/${F} 0755 root root -`,
      `C /var/srv/${F}/index.html - - - - /usr/share/factory/var/srv/${F}/index.html`,
    ].sort());
    // The /var skeleton (every base declares it) and the spool the package's own tmpfiles.d declares have no line.
    expect(readFileSync(join(dir, `usr/lib/tmpfiles.d/${F}.conf`), 'utf8')).toMatch(/^d \/var\/spool\/deblayer-fixture /m);
    const conf = readFileSync(join(dir, m.tmpfilesConf!), 'utf8');
    expect(m.tmpfilesConf).toBe(`usr/lib/tmpfiles.d/deblayer-${F}-all.conf`);
    for (const line of m.tmpfiles) expect(conf).toContain(`${line}\n`);
    expect(m.conffiles.map((c) => c.path)).toEqual([`/etc/${F}/main.conf`, `/etc/${F}/secret.conf`]);
  });

  it('records the file list and md5sums dpkg records for the same package', async () => {
    for (const name of ['all', 'minimal'] as const) {
      const deb = fixtures[name]!.xz!;
      const m = await layer(deb, tempDir());
      const theirs = await dpkgRecords(deb, m.package);
      expect(m.files[0]).toBe('/.');
      expect([...m.files].sort()).toEqual([...theirs.list].sort());
      expect(m.md5sums).toEqual(theirs.md5sums);
    }
  });

  it('relocates kernel files like linux-image ships them', async () => {
    const dir = tempDir();
    await layer(fixtures.kernel!.xz!, dir);
    const mod = join(dir, 'usr/lib/modules/6.1.0-99-deblayer');
    expect(readdirSync(mod).sort()).toEqual(['System.map', 'config', 'kernel', 'vmlinuz']);
    expect(readFileSync(join(mod, 'vmlinuz'), 'utf8')).toBe('kernel\n');
  });

  it('refuses a device node in /dev with one line naming package and path', async () => {
    const dir = tempDir();
    const r = await deblayer(['deb', 'extract', '--layer', fixtures.devnode!.xz!, join(dir, 'layer')]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr.trim()).toBe(
      "deblayer: error: package deblayer-fixture-devnode: cannot layer '/dev/deblayer-null': /dev is provided by the kernel at boot and cannot hold package files",
    );
    expect(existsSync(join(dir, 'layer'))).toBe(false);
    // The raw extraction of the same package works, as with dpkg-deb -x.
    const raw = await deblayer(['deb', 'extract', fixtures.devnode!.xz!, join(dir, 'raw')]);
    expect(raw.exitCode).toBe(0);
    expect(lstatSync(join(dir, 'raw/dev/deblayer-null')).isCharacterDevice()).toBe(true);
  });
});
