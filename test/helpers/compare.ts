// The fidelity check shared by the fixture, tar-format and real-package tests.

import { join } from 'node:path';
import { expect } from 'vitest';
import { deblayer } from './cli.js';
import { dpkgDebExtract, tarNumericListing } from './dpkg.js';
import { diffSnapshots, snapshotTree } from './tree.js';

/** Compare deblayer's extraction with dpkg-deb -x and with tar's numeric owners. */
export async function expectSameAsDpkg(deb: string, work: string): Promise<number> {
  const theirs = join(work, 'dpkg');
  const ours = join(work, 'deblayer');
  await dpkgDebExtract(deb, theirs);
  const r = await deblayer(['deb', 'extract', deb, ours]);
  expect(r.stderr).not.toMatch(/error/);
  expect(r.exitCode).toBe(0);
  const a = snapshotTree(theirs);
  const b = snapshotTree(ours);
  // Owners: dpkg-deb -x (GNU tar as root) maps user *names* through the host's
  // passwd; the archive's numeric ids are the reference (see issue 2).
  // Directory mtimes: GNU tar creates symlinks and nodes after restoring their
  // directory's time, leaving it at "now"; deblayer keeps the archive's time
  // (checked against known values in the fixture test below).
  expect(diffSnapshots(a, b, { ignoreOwners: true, ignoreDirMtimes: true })).toEqual([]);
  for (const e of await tarNumericListing(deb)) {
    const node = b.nodes.get(e.path);
    expect(node, e.path).toBeDefined();
    expect({ path: e.path, uid: node!.uid, gid: node!.gid }).toEqual({ path: e.path, uid: e.uid, gid: e.gid });
  }
  return b.nodes.size;
}

