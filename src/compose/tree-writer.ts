// Writes archive entries into a target directory the way `tar -xp` under
// dpkg-deb -x does (modes with setuid/setgid/sticky, numeric owners, mtimes,
// hardlinks), and never outside it:
//  - every parent of an entry is checked once to be a real directory, so an
//    entry can never be written through a symlink (the archive's or the target's);
//  - files are created with O_EXCL|O_NOFOLLOW, so the final component is never
//    followed either;
//  - an entry can't replace a directory, so a checked parent stays checked;
//  - a hardlink may only name a file this archive wrote earlier.
// Directory modes, owners and times are applied last, deepest first, so a
// read-only directory can still be filled and its mtime is not disturbed.

import {
  chmodSync,
  chownSync,
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  futimesSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  renameSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeSync,
} from 'node:fs';
import { createHash, type Hash } from 'node:crypto';
import { dirname, join } from 'node:path';
import type { DebEntry, EntryBody } from '../deb/index.js';
import { DeblayerError, UnpackError, UnsafePathError } from '../errors.js';
import { makeNode } from '../exec/mknod.js';
import { fsPath } from '../vocabulary/file-names.js';

interface PendingDir {
  rel: string;
  path: string | Buffer;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
}

/** Node turns negative numbers into "now"; a Date keeps times before 1970. */
function time(seconds: number): number | Date {
  return seconds < 0 ? new Date(seconds * 1000) : seconds;
}

const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

export interface WriteOptions {
  /** Compute an md5 of each regular file's content (for the dpkg database). */
  md5?: boolean;
}

export class TreeWriter {
  /** Relative paths known to be real directories ('' is the target). */
  private readonly dirs = new Set<string>(['']);
  /**
   * Non-directories this writer created. A hardlink may only name one of these:
   * any other path could run through a symlink (link(2) follows all but the
   * last component) and pull a file from outside into the tree.
   */
  private readonly written = new Set<string>();
  private readonly pendingDirs = new Map<string, PendingDir>();
  private readonly asRoot = process.getuid?.() === 0;

  /**
   * @param root absolute path of an existing target directory
   * @param file the package being unpacked, for error messages
   */
  constructor(
    private readonly root: string,
    private readonly file: string,
  ) {}

  /** The path for fs calls: bytes when the name is not UTF-8 (see names.ts). */
  private abs(rel: string): string | Buffer {
    return rel === '' ? this.root : fsPath(join(this.root, rel));
  }

  /** Make sure every ancestor of `rel` is a real directory, creating missing ones. */
  private ensureParents(rel: string, entryName: string): void {
    const parent = dirname(rel) === '.' ? '' : dirname(rel);
    if (this.dirs.has(parent)) return;
    this.ensureParents(parent, entryName);
    const abs = this.abs(parent);
    let st;
    try {
      st = lstatSync(abs);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new UnpackError(this.file, entryName, err);
      mkdirSync(abs, 0o755);
      this.dirs.add(parent);
      return;
    }
    if (st.isSymbolicLink()) {
      throw new UnsafePathError(this.file, entryName, `it would be written through the symlink '${parent}'`);
    }
    if (!st.isDirectory()) throw new UnsafePathError(this.file, entryName, `'${parent}' is not a directory`);
    this.dirs.add(parent);
  }

  /** Remove a non-directory at `rel` so it can be replaced, as tar does. */
  private clear(rel: string, entryName: string): void {
    if (this.dirs.has(rel)) throw new UnsafePathError(this.file, entryName, 'it would replace a directory');
    const abs = this.abs(rel);
    try {
      if (lstatSync(abs).isDirectory()) throw new UnsafePathError(this.file, entryName, 'it would replace a directory');
      unlinkSync(abs);
    } catch (err) {
      if (err instanceof DeblayerError) throw err;
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new UnpackError(this.file, entryName, err);
    }
  }

  private chown(fn: () => void): void {
    if (this.asRoot) fn();
  }

  /**
   * Write one entry at relative path `rel` (which may differ from entry.path when
   * a layer rewrite relocates it). For hardlinks, `linkTo` is the relative path
   * the link target was written at. Returns the md5 of a regular file when asked.
   */
  async write(
    rel: string,
    entry: DebEntry,
    body: EntryBody,
    options: WriteOptions & { linkTo?: string } = {},
  ): Promise<string | undefined> {
    const name = entry.path === '' ? './' : entry.path;
    // Every path arrives normalised; a relocated one (layer rewrite, package
    // names in file names) is checked again here, where it would be used.
    if (rel !== '' && rel.split('/').some((c) => c === '' || c === '.' || c === '..')) {
      throw new UnsafePathError(this.file, name, `it would be written at '${rel}', outside the target`);
    }
    try {
      if (entry.type === 'file') return await this.writeFile(rel, entry, body, name, options.md5 ?? false);
      body.skip();
      if (rel !== '') this.ensureParents(rel, name);
      switch (entry.type) {
        case 'directory':
          this.mkdir(rel, entry, name);
          break;
        case 'symlink': {
          const abs = this.abs(rel);
          try {
            symlinkSync(fsPath(entry.linkTarget!), abs);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
            this.clear(rel, name);
            symlinkSync(fsPath(entry.linkTarget!), abs);
          }
          this.written.add(rel);
          this.chown(() => lchownSync(abs, entry.uid, entry.gid));
          lutimesSync(abs, time(entry.mtime), time(entry.mtime));
          break;
        }
        case 'hardlink': {
          const target = options.linkTo ?? entry.linkTarget!;
          if (this.dirs.has(target)) throw new UnsafePathError(this.file, name, `hardlink to directory '${target}'`);
          if (!this.written.has(target)) {
            throw new UnsafePathError(this.file, name, `hardlink to '${entry.linkTarget}', which is not an earlier entry`);
          }
          const abs = this.abs(rel);
          try {
            linkSync(this.abs(target), abs);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
            this.clear(rel, name);
            linkSync(this.abs(target), abs);
          }
          this.written.add(rel);
          break;
        }
        case 'char-device':
        case 'block-device':
        case 'fifo': {
          const abs = this.abs(rel);
          this.clear(rel, name);
          const kind = entry.type === 'fifo' ? 'fifo' : entry.type === 'char-device' ? 'char' : 'block';
          if (typeof abs === 'string') await makeNode(abs, kind, entry.mode, entry.devMajor, entry.devMinor);
          else {
            // mknod(1) takes its path as an argument, which Node can only pass
            // as UTF-8: make the node under a plain name, then rename it.
            const plain = join(this.root, `.deblayer-node-${process.pid}-${this.written.size}`);
            await makeNode(plain, kind, entry.mode, entry.devMajor, entry.devMinor);
            renameSync(plain, abs);
          }
          this.written.add(rel);
          this.chown(() => lchownSync(abs, entry.uid, entry.gid));
          chmodSync(abs, entry.mode);
          utimesSync(abs, time(entry.mtime), time(entry.mtime));
          break;
        }
      }
      return undefined;
    } catch (err) {
      if (err instanceof DeblayerError) throw err;
      throw new UnpackError(this.file, name, err);
    }
  }

  private mkdir(rel: string, entry: DebEntry, name: string): void {
    if (!this.dirs.has(rel)) {
      const abs = this.abs(rel);
      try {
        mkdirSync(abs, 0o700);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const st = lstatSync(abs);
        if (st.isSymbolicLink()) {
          throw new UnsafePathError(this.file, name, 'a symlink is already at this path; refusing to write through it');
        }
        if (!st.isDirectory()) {
          unlinkSync(abs);
          mkdirSync(abs, 0o700);
        }
      }
      this.dirs.add(rel);
    }
    this.pendingDirs.set(rel, { rel, path: this.abs(rel), mode: entry.mode, uid: entry.uid, gid: entry.gid, mtime: entry.mtime });
  }

  private async writeFile(
    rel: string,
    entry: DebEntry,
    body: EntryBody,
    name: string,
    md5: boolean,
  ): Promise<string | undefined> {
    this.ensureParents(rel, name);
    const abs = this.abs(rel);
    let fd: number;
    try {
      fd = openSync(abs, CREATE_FLAGS, 0o600);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST' && code !== 'ELOOP') throw err;
      this.clear(rel, name);
      fd = openSync(abs, CREATE_FLAGS, 0o600);
    }
    this.written.add(rel);
    let hash: Hash | undefined = md5 ? createHash('md5') : undefined;
    try {
      await body.consume((chunk) => {
        let off = 0;
        while (off < chunk.length) off += writeSync(fd, chunk, off);
        hash?.update(chunk);
      });
      // chown before chmod: chown clears setuid/setgid bits.
      this.chown(() => fchownSync(fd, entry.uid, entry.gid));
      fchmodSync(fd, entry.mode);
      futimesSync(fd, time(entry.mtime), time(entry.mtime));
    } finally {
      closeSync(fd);
    }
    const digest = hash?.digest('hex');
    hash = undefined;
    return digest;
  }

  /** Apply directory metadata, deepest first. Call once, after the last entry. */
  finish(): void {
    const dirs = [...this.pendingDirs.values()].sort((a, b) => b.rel.length - a.rel.length);
    for (const d of dirs) {
      try {
        this.chown(() => chownSync(d.path, d.uid, d.gid));
        chmodSync(d.path, d.mode);
        utimesSync(d.path, time(d.mtime), time(d.mtime));
      } catch (err) {
        throw new UnpackError(this.file, d.rel || './', err);
      }
    }
  }
}
