// Rearranges a staged copy of a Debian root filesystem into the layout an
// OSTree host boots (as Garden Linux's builder, Endless and rpm-ostree do):
//
//   etc                     -> usr/etc (libostree merges /etc at deploy); machine-id emptied
//   var/lib/dpkg            -> usr/lib/sysimage/dpkg (configurable) + L /var/lib/dpkg
//   var/cache/debconf       -> usr/lib/sysimage/debconf + L /var/cache/debconf
//   var/..., home, root,    -> tmpfiles.d lines that recreate them (d, L, C with the
//   opt, srv, mnt, usr/local   file kept in usr/share/factory); caches and logs dropped
//   home root opt srv mnt   -> symlinks into /var (var/home, var/roothome, ...)
//   usr/local, media        -> ../var/usrlocal, run/media; ostree -> sysroot/ostree
//   dev proc sys run tmp    -> empty
//   boot/vmlinuz-V, initrd  -> usr/lib/modules/V/vmlinuz, initramfs.img
//
// The staged copy may share inodes with the source tree (a hardlinked copy), so
// this code only renames, unlinks and creates: it never writes into, chmods or
// chowns an existing file.

import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync, type Stats } from 'node:fs';
import { join, dirname, relative, posix } from 'node:path';
import { DeblayerError } from '../errors.js';
import { FACTORY, kernelFile, MERGED_USR } from '../vocabulary/ostree-paths.js';
import { declaredPaths, formatTmpfilesConf, octalMode, type TmpfilesLine } from '../vocabulary/tmpfiles.js';
import { treeAccounts, type Accounts } from './accounts.js';
import { lstatIfPresent } from '../read-text.js';

export const DEFAULT_DPKG_DATABASE = 'usr/lib/sysimage/dpkg';
const DEBCONF_CACHE = 'usr/lib/sysimage/debconf';
export const BASE_TMPFILES = 'usr/lib/tmpfiles.d/deblayer-base.conf';

export interface LayoutOptions {
  /** Where the dpkg database goes, relative to the root (default usr/lib/sysimage/dpkg). */
  dpkgDatabase?: string;
  /** Accept a tree without a kernel (only layered on, never booted). */
  noKernel?: boolean;
}

export interface LayoutResult {
  dpkgDatabase: string;
  kernelVersion?: string;
  tmpfiles: TmpfilesLine[];
  /** Content left out of the commit, for the user to see (paths relative to the root). */
  dropped: string[];
}

/** Top-level directories that live in /var on an OSTree host, and their symlinks. */
const STATE_LINKS: [string, string, string][] = [
  // [tree path, host path of its content, symlink target]
  ['home', '/var/home', 'var/home'],
  ['root', '/var/roothome', 'var/roothome'],
  ['opt', '/var/opt', 'var/opt'],
  ['srv', '/var/srv', 'var/srv'],
  ['mnt', '/var/mnt', 'var/mnt'],
  ['usr/local', '/var/usrlocal', '../var/usrlocal'],
];

const EMPTIED = ['dev', 'proc', 'sys', 'run', 'tmp'];

/** /var content that is a cache or a log: its directories are kept, its files are not. */
const DROPPED_FILES_UNDER = ['/var/cache/', '/var/log/', '/var/lib/apt/lists/', '/var/tmp/'];

const KERNEL_LINKS = ['vmlinuz', 'vmlinuz.old', 'initrd.img', 'initrd.img.old'];

class NotADebianTree extends DeblayerError {}


function sortedEntries(dir: string): string[] {
  return readdirSync(dir).sort();
}

export function applyOstreeLayout(root: string, source: string, options: LayoutOptions = {}): LayoutResult {
  const dpkgDatabase = (options.dpkgDatabase ?? DEFAULT_DPKG_DATABASE).replace(/^\/+|\/+$/g, '');
  checkDebianTree(root, source);
  const accounts = treeAccounts(join(root, 'etc'));
  const declared = declaredTmpfilesPaths(root);
  const result: LayoutResult = { dpkgDatabase, tmpfiles: [], dropped: [] };
  const emit = (line: TmpfilesLine) => {
    if (declared.has(line.path)) return;
    declared.add(line.path);
    result.tmpfiles.push(line);
  };

  result.kernelVersion = placeKernel(root, source, options.noKernel ?? false, result.dropped);

  // The databases travel with the commit, in /usr, linked back from /var.
  moveInto(root, 'var/lib/dpkg', dpkgDatabase);
  emit({ type: 'L', path: '/var/lib/dpkg', argument: relative('/var/lib', `/${dpkgDatabase}`) });
  if (lstatIfPresent(join(root, 'var/cache/debconf'))?.isDirectory()) {
    moveInto(root, 'var/cache/debconf', DEBCONF_CACHE);
    emit({ type: 'L', path: '/var/cache/debconf', argument: relative('/var/cache', `/${DEBCONF_CACHE}`) });
  }

  // /etc defaults go to /usr/etc; the host identity starts empty (systemd makes it at first boot).
  renameSync(join(root, 'etc'), join(root, 'usr/etc'));
  if (lstatIfPresent(join(root, 'usr/etc/machine-id'))) {
    rmSync(join(root, 'usr/etc/machine-id'));
    writeFileSync(join(root, 'usr/etc/machine-id'), '', { mode: 0o444 });
  }

  // State: /var and the directories that live in it on an OSTree host.
  const walker = new StateWalker(root, accounts, emit, result.dropped);
  if (lstatIfPresent(join(root, 'var'))?.isDirectory()) {
    walker.walkChildren('var', '/var');
    emptyDir(join(root, 'var'));
  } else {
    mkdirSync(join(root, 'var'), { mode: 0o755 });
  }
  for (const [treePath, hostPath, target] of STATE_LINKS) {
    const st = lstatIfPresent(join(root, treePath));
    if (st?.isDirectory()) {
      walker.directory(st, hostPath);
      walker.walkChildren(treePath, hostPath);
      rmSync(join(root, treePath), { recursive: true });
    } else if (st) {
      rmSync(join(root, treePath));
    }
    symlinkSync(target, join(root, treePath));
  }
  replaceWithSymlink(root, 'media', 'run/media');
  replaceWithSymlink(root, 'ostree', 'sysroot/ostree');
  if (!lstatIfPresent(join(root, 'sysroot'))) mkdirSync(join(root, 'sysroot'), { mode: 0o755 });

  for (const dir of EMPTIED) {
    // Directories are never shared with the source (only files are hardlinked), so they can be remade.
    rmSync(join(root, dir), { recursive: true, force: true });
    mkdirSync(join(root, dir));
    chmodSync(join(root, dir), dir === 'tmp' ? 0o1777 : 0o755);
  }

  mkdirSync(join(root, dirname(BASE_TMPFILES)), { recursive: true, mode: 0o755 });
  writeFileSync(
    join(root, BASE_TMPFILES),
    formatTmpfilesConf('Written by deblayer base import: recreates the /var content of the imported tree.', result.tmpfiles),
    { mode: 0o644 },
  );
  return result;
}

function checkDebianTree(root: string, source: string): void {
  for (const dir of ['usr', 'etc']) {
    if (!lstatIfPresent(join(root, dir))?.isDirectory()) {
      throw new NotADebianTree(`${source}: not a root filesystem: it has no /${dir} directory`);
    }
  }
  if (!lstatIfPresent(join(root, 'var/lib/dpkg/status'))?.isFile()) {
    throw new NotADebianTree(`${source}: not a Debian root filesystem: it has no dpkg database (/var/lib/dpkg/status)`);
  }
  if (lstatIfPresent(join(root, 'usr/etc'))) {
    throw new NotADebianTree(`${source}: already has /usr/etc: it looks like an OSTree tree already, not a plain root filesystem`);
  }
  for (const dir of MERGED_USR) {
    const st = lstatIfPresent(join(root, dir));
    if (st?.isDirectory()) {
      throw new NotADebianTree(
        `${source}: /${dir} is a directory, not a link into /usr: OSTree bases need a merged /usr (debootstrap's default since bookworm, or the usrmerge package)`,
      );
    }
  }
}

/** Paths that the tree's own tmpfiles.d already creates (systemd's var.conf, ...): not declared twice. */
function declaredTmpfilesPaths(root: string): Set<string> {
  const paths = new Set<string>();
  const dir = join(root, 'usr/lib/tmpfiles.d');
  if (!lstatIfPresent(dir)?.isDirectory()) return paths;
  for (const name of sortedEntries(dir)) {
    if (!name.endsWith('.conf')) continue;
    let text: string;
    try {
      text = readFileSync(join(dir, name), 'utf8');
    } catch {
      continue; // a dangling link (masked by /etc), or unreadable: nothing declared
    }
    for (const path of declaredPaths(text)) paths.add(path);
  }
  return paths;
}

function placeKernel(root: string, source: string, noKernel: boolean, dropped: string[]): string | undefined {
  let version: string | undefined;
  const boot = join(root, 'boot');
  if (lstatIfPresent(boot)?.isDirectory()) {
    for (const name of sortedEntries(boot)) {
      const st = lstatIfPresent(join(boot, name))!;
      let placed = false;
      if (st.isFile()) {
        const kernel = kernelFile(name);
        if (kernel) {
          const dest = join(root, kernel.path);
          mkdirSync(dirname(dest), { recursive: true, mode: 0o755 });
          if (!lstatIfPresent(dest)) renameSync(join(boot, name), dest);
          if (kernel.name === 'vmlinuz') version = kernel.version;
          placed = true;
        }
      }
      if (!placed) dropped.push(`boot/${name}`);
    }
    emptyDir(boot);
  } else {
    mkdirSync(boot, { mode: 0o755 });
  }
  // The kernel package's links at the top (vmlinuz -> boot/vmlinuz-V) would dangle once /boot is emptied.
  for (const name of KERNEL_LINKS) {
    if (lstatIfPresent(join(root, name))?.isSymbolicLink()) {
      rmSync(join(root, name));
      dropped.push(name);
    }
  }
  const modules = join(root, 'usr/lib/modules');
  if (version === undefined && lstatIfPresent(modules)?.isDirectory()) {
    version = sortedEntries(modules).find((v) => lstatIfPresent(join(modules, v, 'vmlinuz'))?.isFile());
  }
  if (version === undefined && !noKernel) {
    throw new DeblayerError(
      `${source}: no kernel: neither /boot/vmlinuz-VERSION nor /usr/lib/modules/VERSION/vmlinuz exists, and ostree admin deploy needs one (install a linux-image package in the tree, or pass --no-kernel for a base that is only layered on, never booted)`,
    );
  }
  return version;
}

function moveInto(root: string, from: string, to: string): void {
  const dest = join(root, to);
  if (lstatIfPresent(dest)) throw new DeblayerError(`cannot move /${from} to /${to}: /${to} already exists in the tree`);
  mkdirSync(dirname(dest), { recursive: true, mode: 0o755 });
  renameSync(join(root, from), dest);
}

function replaceWithSymlink(root: string, path: string, target: string): void {
  const st = lstatIfPresent(join(root, path));
  if (st?.isDirectory()) {
    const left = readdirSync(join(root, path));
    if (left.length > 0) throw new DeblayerError(`/${path} is not empty (${left[0]}): it becomes a link to /${target} on an OSTree host`);
    rmSync(join(root, path), { recursive: true });
  } else if (st) rmSync(join(root, path));
  symlinkSync(target, join(root, path));
}

function emptyDir(dir: string): void {
  for (const name of readdirSync(dir)) rmSync(join(dir, name), { recursive: true, force: true });
}

/** Turns what is under a state directory into tmpfiles lines, moving files to the factory. */
class StateWalker {
  constructor(
    private readonly root: string,
    private readonly accounts: Accounts,
    private readonly emit: (line: TmpfilesLine) => void,
    private readonly dropped: string[],
  ) {}

  private owner(st: Stats) {
    return { user: this.accounts.user(st.uid), group: this.accounts.group(st.gid) };
  }

  directory(st: Stats, hostPath: string): void {
    this.emit({ type: 'd', path: hostPath, mode: octalMode(st.mode), ...this.owner(st) });
  }

  walkChildren(treePath: string, hostPath: string): void {
    for (const name of sortedEntries(join(this.root, treePath))) {
      this.walk(posix.join(treePath, name), posix.join(hostPath, name));
    }
  }

  private walk(treePath: string, hostPath: string): void {
    const full = join(this.root, treePath);
    const st = lstatSync(full);
    if (st.isDirectory()) {
      this.directory(st, hostPath);
      this.walkChildren(treePath, hostPath);
    } else if (st.isSymbolicLink()) {
      this.emit({ type: 'L', path: hostPath, argument: readlinkSync(full, 'utf8') });
    } else if (st.isFile()) {
      if (DROPPED_FILES_UNDER.some((p) => hostPath.startsWith(p))) {
        this.dropped.push(treePath);
        return;
      }
      // The file travels under /usr/share/factory and is copied into place at
      // boot if missing, with its mode and owner (C lines copy both).
      const factory = `${FACTORY}${hostPath}`;
      mkdirSync(dirname(join(this.root, factory)), { recursive: true, mode: 0o755 });
      renameSync(full, join(this.root, factory));
      this.emit({ type: 'C', path: hostPath, argument: `/${factory}` });
    } else if (st.isFIFO()) {
      this.emit({ type: 'p', path: hostPath, mode: octalMode(st.mode), ...this.owner(st) });
    } else if (st.isCharacterDevice() || st.isBlockDevice()) {
      this.emit({
        type: st.isCharacterDevice() ? 'c' : 'b',
        path: hostPath,
        mode: octalMode(st.mode),
        ...this.owner(st),
        argument: `${Math.floor(st.rdev / 256) & 0xfff}:${(st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00)}`,
      });
    } else {
      this.dropped.push(treePath); // sockets: they belong to a running service
    }
  }
}
