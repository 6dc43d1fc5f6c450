// The writable view of a commit that scripts run over: a hardlink checkout
// (`ostree checkout -H`, cheap: no file is copied) under a kernel overlayfs
// whose upper directory takes every write, chmod and delete. The checked-out
// files are the repository's objects: written in place they would corrupt it
// (`ostree fsck` catches that); through the overlay a change always copies
// the file up first. The upper directory is what the scripts changed, read
// back afterwards (diff.ts). The mounts live in a private mount namespace held
// for the view's lifetime (src/exec/namespace.ts), so none reaches the host.
//
// Only usr/ is overlaid: in a commit the other top-level entries are symlinks
// and empty directories, and the sandbox builds / itself. /var is a second
// overlay over a scratch tree (what the tree's tmpfiles.d lines make), so that
// what scripts add to /var can be told from what the packages ship there.

import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { join, relative } from 'node:path';
import { mountOverlay } from '../exec/mount.js';
import { MountNamespace } from '../exec/namespace.js';
import type { OstreeRepo } from '../exec/ostree.js';

export interface View {
  ns: MountNamespace;
  /** The scratch directory (in the repository's tmp/, the file system of its objects). */
  dir: string;
  /** The checkout (read only: hardlinks to repository objects). */
  checkout: string;
  /** Mount point of the writable usr view (a path in the namespace). */
  usr: string;
  /** The usr overlay's upper directory: the layer tree is its parent. */
  usrUpper: string;
  /** Parent of usrUpper: a tree with usr/ only, ready to commit. */
  layer: string;
  /** /var: a plain directory until mountVar, then an overlay over it. */
  var: string;
  varLower: string;
  varUpper: string;
}

function mkdirs(...dirs: string[]): void {
  for (const d of dirs) mkdirSync(d, { recursive: true });
}

/** A view of COMMIT; the dpkg database at DATABASE (relative, in usr/) is linked from /var/lib/dpkg. */
export async function openView(repo: OstreeRepo, commit: string, database: string, ns: MountNamespace, name: string): Promise<View> {
  mkdirSync(join(repo.path, 'tmp'), { recursive: true });
  const dir = mkdtempSync(join(repo.path, 'tmp', `deblayer-scripts-${name}-`));
  const checkout = join(dir, 'checkout');
  await repo.checkoutHardlinks(commit, checkout);
  const v: View = {
    ns,
    dir,
    checkout,
    usr: join(dir, 'usr'),
    layer: join(dir, 'layer'),
    usrUpper: join(dir, 'layer', 'usr'),
    var: join(dir, 'var'),
    varLower: join(dir, 'var-low'),
    varUpper: join(dir, 'var-up'),
  };
  mkdirs(v.usr, v.usrUpper, join(dir, 'usr-work'), v.var, v.varLower, v.varUpper, join(dir, 'var-work'));
  // The upper's root is the view's /usr: it must look like the commit's usr.
  const usrStat = statSync(join(checkout, 'usr'));
  chmodSync(v.usrUpper, usrStat.mode & 0o7777);
  chownSync(v.usrUpper, usrStat.uid, usrStat.gid);
  chmodSync(v.layer, 0o755);
  chmodSync(v.varLower, 0o755);
  // dpkg, and the scripts that ask it, look in /var/lib/dpkg and /var/cache/debconf.
  mkdirs(join(v.varLower, 'lib'), join(v.varLower, 'cache'));
  symlinkSync(relative('/var/lib', `/${database}`), join(v.varLower, 'lib/dpkg'));
  symlinkSync(relative('/var/cache', '/usr/lib/sysimage/debconf'), join(v.varLower, 'cache/debconf'));
  await mountOverlay(ns, { lower: join(checkout, 'usr'), upper: v.usrUpper, work: join(dir, 'usr-work'), target: v.usr });
  return v;
}

/** From here on, writes to /var land in varUpper; varLower is what came before. */
export async function mountVar(v: View): Promise<void> {
  await mountOverlay(v.ns, { lower: v.varLower, upper: v.varUpper, work: join(v.dir, 'var-work'), target: v.var });
}

/** Where Node reads and writes PATH (relative to usr/) of the view. */
export function inUsr(v: View, path: string): string {
  return v.ns.path(join(v.usr, path));
}

export function removeView(v: View): void {
  rmSync(v.dir, { recursive: true, force: true });
}
