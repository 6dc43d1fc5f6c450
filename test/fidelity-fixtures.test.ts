// deblayer deb extract must produce exactly the tree dpkg-deb -x produces, for
// every fixture in every compression; deb contents must match dpkg-deb -c.

import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, inject, it } from 'vitest';
import { deblayer } from './helpers/cli.js';
import { useScratch } from './helpers/scratch.js';
import { expectSameAsDpkg } from './helpers/compare.js';
import { snapshotTree } from './helpers/tree.js';

const fixtures = inject('fixtures');
const debs = Object.entries(fixtures).flatMap(([name, byComp]) =>
  Object.entries(byComp).map(([comp, path]) => ({ label: `${name} (${comp})`, path: path! })),
);

const tempDir = useScratch('fid');

describe('deb extract matches dpkg-deb -x on fixtures', () => {
  it.each(debs)('$label', async ({ path }) => {
    const n = await expectSameAsDpkg(path, tempDir());
    expect(n).toBeGreaterThan(3);
  });

  it('the all-types fixture really contains every entry type and special mode', async () => {
    const work = tempDir();
    await deblayer(['deb', 'extract', fixtures.all!.xz!, work]);
    const snap = snapshotTree(work);
    const types = new Set([...snap.nodes.values()].map((n) => n.type));
    expect([...types].sort()).toEqual(['block', 'char', 'dir', 'fifo', 'file', 'symlink']);
    const modes = [...snap.nodes.values()].map((n) => n.mode);
    expect(modes).toEqual(expect.arrayContaining(['4755', '2755', '6750', '1777', '2775', '1730', '0444', '0500']));
    expect(snap.hardlinkGroups.length).toBeGreaterThanOrEqual(4);
    expect([...snap.nodes.keys()].some((p) => p.length > 200)).toBe(true);
    // A name that is not UTF-8 keeps its bytes, and so does a link to it.
    expect(snap.nodes.get('usr/share/deblayer-fixture/caf\udce9')).toMatchObject({ type: 'file', size: 7 });
    expect(snap.nodes.get('usr/share/deblayer-fixture/link-to-caf\udce9')).toMatchObject({ type: 'symlink', target: 'caf\udce9' });
    // Directory times as archived, even for directories holding symlinks and nodes.
    expect(snap.nodes.get('var/lib/deblayer-fixture')!.mtime).toBe(1400000000);
    expect(snap.nodes.get('usr/share/deblayer-fixture/sticky')!.mtime).toBe(1400000000);
    expect(snap.nodes.get('usr/bin')!.mtime).toBe(1600000000);
    expect(snap.nodes.get('usr/bin/deblayer-fixture-rel')!.mtime).toBe(1500000000);
  });
});

describe('deb contents matches dpkg-deb -c', () => {
  it.each(debs)('$label', async ({ path }) => {
    const env = { LC_ALL: 'C', TZ: 'UTC' };
    const theirs = await execa('dpkg-deb', ['-c', path], { env });
    const ours = await deblayer(['deb', 'contents', path], { env });
    expect(ours.exitCode).toBe(0);
    expect(ours.stdout).toBe(theirs.stdout);
  });
});

describe('deb info matches dpkg-deb -I', () => {
  it.each(debs)('$label', async ({ path }) => {
    const theirs = await execa('dpkg-deb', ['-I', path], { env: { LC_ALL: 'C' } });
    const ours = await deblayer(['deb', 'info', path]);
    expect(ours.exitCode).toBe(0);
    expect(ours.stdout).toBe(theirs.stdout);
  });
});
