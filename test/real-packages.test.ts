// Real packages from the Debian archive (fixtures/real-packages.txt): setuid
// binaries, hardlink groups, thousands of symlinks, long and non-ASCII names,
// /var content, large trees. deb extract must match dpkg-deb -x exactly, and
// the layer must carry every file of the package, relocated, none altered.

import { readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, inject, it } from 'vitest';
import { deblayer } from './helpers/cli.js';
import { useScratch } from './helpers/scratch.js';
import { expectSameAsDpkg } from './helpers/compare.js';
import { snapshotTree, type TreeSnapshot } from './helpers/tree.js';

const debs = inject('realDebs').map((path) => ({ name: basename(path).split('_')[0]!, path }));
const tempDir = useScratch('real');

it('tests at least 25 real packages', () => {
  expect(debs.length).toBeGreaterThanOrEqual(25);
});

describe('deb extract matches dpkg-deb -x on real packages', () => {
  it.each(debs)('$name', async ({ path }) => {
    expect(await expectSameAsDpkg(path, tempDir())).toBeGreaterThan(3);
  });
});

describe('deb info matches dpkg-deb -I on real packages', () => {
  it.each(debs)('$name', async ({ path }) => {
    const theirs = await execa('dpkg-deb', ['-I', path], { env: { LC_ALL: 'C' } });
    const ours = await deblayer(['deb', 'info', path]);
    expect(ours.stdout).toBe(theirs.stdout);
  });
});

/** Content and mode of every regular file (hardlinked names counted once each). */
function files(snap: TreeSnapshot, skip: (p: string) => boolean = () => false): string[] {
  return [...snap.nodes]
    .filter(([p, n]) => n.type === 'file' && !skip(p))
    .map(([, n]) => `${n.sha256} ${n.mode} ${n.uid}:${n.gid}`)
    .sort();
}

describe('deb extract --layer carries every file of real packages', () => {
  it.each(debs.filter((d) => d.name !== 'memtest86+'))('$name', async ({ path }) => {
    const work = tempDir();
    const raw = join(work, 'raw');
    const layer = join(work, 'layer');
    await deblayer(['deb', 'extract', path, raw]);
    const r = await deblayer(['--json', 'deb', 'extract', '--layer', path, layer]);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const manifest = JSON.parse(r.stdout) as { files: string[]; tmpfiles: string[]; tmpfilesConf?: string };
    expect(readdirSync(layer)).toEqual(['usr']);
    const a = snapshotTree(raw);
    const b = snapshotTree(layer);
    // Every regular file, with its content, mode and owner, is in the layer.
    expect(files(b, (p) => p === manifest.tmpfilesConf)).toEqual(files(a));
    // Every symlink is in the layer or recreated by an L line.
    const symlinks = (s: TreeSnapshot) => [...s.nodes.values()].filter((n) => n.type === 'symlink').length;
    const lLines = manifest.tmpfiles.filter((l) => l.startsWith('L ') && !l.startsWith('L /var/opt/')).length;
    expect(symlinks(b) + lLines).toBe(symlinks(a));
    // The manifest lists the package's paths as dpkg-deb -c does.
    const listing = (await execa('dpkg-deb', ['--fsys-tarfile', path], { encoding: 'buffer', maxBuffer: 1 << 30 })).stdout;
    const names = (await execa('tar', ['-t'], { input: listing, env: { LC_ALL: 'C.UTF-8' }, maxBuffer: 1 << 28 })).stdout
      .split('\n')
      .map((n) => (n === './' ? '/.' : '/' + n.replace(/^\.\//, '').replace(/\/$/, '')));
    expect(manifest.files.length).toBe(names.length);
    for (const line of manifest.tmpfiles) expect(line).toMatch(/^[dLCpcb] \/(var|run|tmp)\//);
    if (manifest.tmpfilesConf) {
      expect(readFileSync(join(layer, manifest.tmpfilesConf), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'))).toEqual(manifest.tmpfiles);
    }
  });

  it('refuses memtest86+, whose files live in /boot, naming the file', async () => {
    const deb = debs.find((d) => d.name === 'memtest86+');
    expect(deb).toBeDefined();
    const r = await deblayer(['deb', 'extract', '--layer', deb!.path, join(tempDir(), 'layer')]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/^deblayer: error: package memtest86\+: cannot layer '\/boot\/memtest86\+\S+': OSTree manages \/boot/);
  });
});

