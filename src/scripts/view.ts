// The writable view of a commit that scripts run over: the commit's usr/ as
// overlayfs lower layers, under an upper directory that takes every write,
// chmod and delete. The lower layers are hardlinks to the repository's
// objects: written in place they would corrupt it (`ostree fsck` catches
// that); through the overlay a change always copies the file up first. The
// upper directory is what the scripts changed, read back afterwards (diff.ts).
// The mounts live in a private mount namespace held for the view's lifetime
// (src/exec/namespace.ts), so none reaches the host.
//
// The lower layers are the base's usr/ and, above it, only what the commit
// adds to the base (checkoutDelta): the base's usr/ is taken from a
// deployment of the base when the sysroot has one (ostree made it with
// hardlinks, and never writes into a deployment's usr/), so the view costs
// what the layer holds, not what the base holds. Without such a deployment
// (a new base after an upgrade, a bare repository) the base is checked out.
//
// Only usr/ is overlaid: in a commit the other top-level entries are symlinks
// and empty directories, and the sandbox builds / itself. /var is a second
// overlay over a scratch tree (what the tree's tmpfiles.d lines make), so that
// what scripts add to /var can be told from what the packages ship there.

import { chmodSync, chownSync, copyFileSync, existsSync, lchownSync, lstatSync, mkdirSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { join, relative } from 'node:path';
import { checkoutDelta } from '../exec/libostree.js';
import { deployedUsr } from '../base/deployed-usr.js';
import { mountOverlay, mountReadOnlyOverlay, unmount } from '../exec/mount.js';
import { MountNamespace } from '../exec/namespace.js';
import type { OstreeRepo } from '../exec/ostree.js';
import { stagingDir } from '../staging.js';
import { readTextIfPresent } from '../read-text.js';
import type { PackageRecord } from '../vocabulary/packages.js';
import { declaredLines, makesDirectory } from '../vocabulary/tmpfiles.js';
import { isWhiteout } from './diff.js';

export interface View {
  ns: MountNamespace;
  /** The scratch directory (in the repository's tmp/, the file system of its objects). */
  dir: string;
  /** The commit's usr/ before the scripts (read only), as Node sees it while the namespace is open. */
  lowerUsr: string;
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


/** A new staging directory for a view: NAME tells the views of one run apart. */
export function viewDir(repo: OstreeRepo, name: string): string {
  return stagingDir(repo.path, `scripts-${name}`);
}

/** A view of COMMIT in DIR (from viewDir), which BASE underlies; the dpkg database at DATABASE (relative, in usr/) is linked from /var/lib/dpkg. */
export async function openView(repo: OstreeRepo, source: { base: string; commit: string }, database: string, ns: MountNamespace, dir: string): Promise<View> {
  let baseUsr = deployedUsr(repo.path, source.base);
  if (!baseUsr) {
    baseUsr = join(dir, 'base-usr');
    await repo.checkoutHardlinks(source.base, baseUsr, '/usr');
  }
  const lowers = [baseUsr];
  if (source.commit !== source.base) {
    const delta = join(dir, 'delta-usr');
    await checkoutDelta(repo.path, source.base, source.commit, 'usr', delta);
    lowers.unshift(delta);
  }
  const v: View = {
    ns,
    dir,
    lowerUsr: baseUsr,
    usr: join(dir, 'usr'),
    layer: join(dir, 'layer'),
    usrUpper: join(dir, 'layer', 'usr'),
    var: join(dir, 'var'),
    varLower: join(dir, 'var-low'),
    varUpper: join(dir, 'var-up'),
  };
  mkdirs(v.usr, v.usrUpper, join(dir, 'usr-work'), v.var, v.varLower, v.varUpper, join(dir, 'var-work'));
  let lowerMounted: Promise<void> = Promise.resolve();
  if (lowers.length > 1) {
    // The lower layers as one read-only tree: what the upper is compared with.
    // It is mounted while the rest of the view is made (neither depends on the other).
    const lower = join(dir, 'lower-usr');
    mkdirs(lower);
    lowerMounted = mountReadOnlyOverlay(ns, lowers, lower);
    v.lowerUsr = ns.path(lower);
  }
  // The upper's root is the view's /usr: it must look like the commit's usr.
  const usrStat = statSync(lowers[0]!);
  chmodSync(v.usrUpper, usrStat.mode & 0o7777);
  chownSync(v.usrUpper, usrStat.uid, usrStat.gid);
  chmodSync(v.layer, 0o755);
  chmodSync(v.varLower, 0o755);
  // dpkg, and the scripts that ask it, look in /var/lib/dpkg and /var/cache/debconf.
  mkdirs(join(v.varLower, 'lib'), join(v.varLower, 'cache'));
  symlinkSync(relative('/var/lib', `/${database}`), join(v.varLower, 'lib/dpkg'));
  symlinkSync(relative('/var/cache', '/usr/lib/sysimage/debconf'), join(v.varLower, 'cache/debconf'));
  const mounted = await Promise.allSettled([lowerMounted, mountOverlay(ns, { lower: lowers.join(':'), upper: v.usrUpper, work: join(dir, 'usr-work'), target: v.usr })]);
  for (const m of mounted) if (m.status === 'rejected') throw m.reason;
  return v;
}

/**
 * The directories RECORDS ship under /var that their own tmpfiles.d lines
 * declare, and that those lines did not make in varLower, made there owned by
 * root with the line's mode. dpkg unpacks them before the postinst runs; the
 * layer leaves them to the package's line, which cannot apply yet when it
 * names the account the postinst creates (polkitd's /var/lib/polkit-1, which
 * its postinst then gives to polkitd).
 */
export function makeDeclaredVarDirs(v: View, records: PackageRecord[]): void {
  for (const r of records) {
    const declared = new Set(r.tmpfilesDeclared ?? []);
    if (declared.size === 0) continue;
    const shipped = new Set(r.files);
    for (const conf of r.files.filter((f) => /^\/usr\/lib\/tmpfiles\.d\/[^/]+\.conf$/.test(f))) {
      for (const { type, path, mode } of declaredLines(readTextIfPresent(inUsr(v, conf.slice('/usr/'.length))))) {
        if (!makesDirectory(type) || !path.startsWith('/var/') || !declared.has(path) || !shipped.has(path)) continue;
        const at = join(v.varLower, path.slice('/var/'.length));
        if (existsSync(at)) continue;
        mkdirSync(at, { recursive: true });
        chmodSync(at, mode && /^[0-7]{3,4}$/.test(mode) ? parseInt(mode, 8) : 0o755);
      }
    }
  }
}

/**
 * What the preinsts changed in /etc of the base's view BASE, carried into V as
 * dpkg keeps it: a preinst runs before its package is unpacked, and what it
 * makes stays (sgml-base's makes /etc/sgml, which its postinst needs). A path
 * the new packages ship (SHIPPED, as dpkg lists them) stays as composed, since
 * the unpack replaces what a preinst left there; so do the paths of SKIP
 * (relative, such as etc/passwd), taken whole elsewhere.
 */
export function carryPreinstEtc(base: View, v: View, shipped: Set<string>, skip: Set<string>): void {
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(base.usrUpper, rel))) {
      const path = `${rel}/${name}`;
      const from = join(base.usrUpper, path);
      const to = inUsr(v, path);
      const st = lstatSync(from);
      if (st.isDirectory()) {
        if (!existsSync(to)) {
          mkdirSync(to);
          chownSync(to, st.uid, st.gid);
          chmodSync(to, st.mode & 0o7777);
        }
        walk(path);
        continue;
      }
      if (skip.has(path) || shipped.has(`/${path}`)) continue;
      rmSync(to, { recursive: true, force: true });
      if (isWhiteout(st)) continue;
      if (st.isSymbolicLink()) symlinkSync(readlinkSync(from), to);
      else {
        copyFileSync(from, to);
        chmodSync(to, st.mode & 0o7777);
      }
      lchownSync(to, st.uid, st.gid);
    }
  };
  if (existsSync(join(base.usrUpper, 'etc'))) walk('etc');
}

/** From here on, writes to /var land in varUpper; varLower is what came before. */
export async function mountVar(v: View): Promise<void> {
  await mountOverlay(v.ns, { lower: v.varLower, upper: v.varUpper, work: join(v.dir, 'var-work'), target: v.var });
}

/** Where Node reads and writes PATH (relative to usr/) of the view. */
export function inUsr(v: View, path: string): string {
  return v.ns.path(join(v.usr, path));
}

/** Takes the writable mounts down: the upper directories can be read back and edited as plain trees; lowerUsr stays readable until the namespace closes. */
export async function closeWritable(v: View): Promise<void> {
  await unmount(v.ns, v.var, v.usr);
}
