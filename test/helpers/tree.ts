// A comparable snapshot of a directory tree: what `dpkg-deb -x` and deblayer
// must agree on (paths, types, modes, owners, sizes, link targets, content
// hashes, mtimes, device numbers, hardlink groups).

import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync, type Stats } from 'node:fs';
import { decodeName, fsPath } from '../../src/vocabulary/file-names.js';

export interface NodeInfo {
  type: 'file' | 'dir' | 'symlink' | 'fifo' | 'char' | 'block' | 'other';
  mode: string;
  uid: number;
  gid: number;
  size?: number;
  sha256?: string;
  target?: string;
  mtime: number;
  rdev?: string;
}

export interface TreeSnapshot {
  nodes: Map<string, NodeInfo>;
  /** Sorted groups of paths sharing one inode (only groups of two or more). */
  hardlinkGroups: string[][];
}

function typeOf(st: Stats): NodeInfo['type'] {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFIFO()) return 'fifo';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  return 'other';
}

/**
 * Names are read as bytes and keyed with deblayer's lossless decoding, so a
 * name that is not UTF-8 is compared byte for byte rather than mangled alike
 * on both sides.
 */
export function snapshotTree(root: string): TreeSnapshot {
  const nodes = new Map<string, NodeInfo>();
  const inodes = new Map<string, string[]>();
  const walk = (rel: string) => {
    const abs = rel ? fsPath(`${root}/${rel}`) : root;
    const st = lstatSync(abs);
    const type = typeOf(st);
    const info: NodeInfo = {
      type,
      mode: (st.mode & 0o7777).toString(8).padStart(4, '0'),
      uid: st.uid,
      gid: st.gid,
      mtime: Math.floor(st.mtimeMs / 1000),
    };
    if (type === 'file') {
      info.size = st.size;
      info.sha256 = createHash('sha256').update(readFileSync(abs)).digest('hex');
      if (st.nlink > 1) {
        const key = String(st.ino);
        inodes.set(key, [...(inodes.get(key) ?? []), rel]);
      }
    }
    if (type === 'symlink') info.target = decodeName(readlinkSync(abs, { encoding: 'buffer' }));
    if (type === 'char' || type === 'block') info.rdev = `${Math.floor(st.rdev / 256)}:${st.rdev % 256}`;
    nodes.set(rel || '.', info);
    if (type === 'dir') {
      for (const name of readdirSync(abs, { encoding: 'buffer' }).map(decodeName).sort()) walk(rel ? `${rel}/${name}` : name);
    }
  };
  walk('');
  const hardlinkGroups = [...inodes.values()].filter((g) => g.length > 1).map((g) => g.sort()).sort();
  return { nodes, hardlinkGroups };
}

/** Differences between two snapshots, as readable lines (empty when equal). */
export function diffSnapshots(a: TreeSnapshot, b: TreeSnapshot, opts: { ignoreOwners?: boolean; ignoreDirMtimes?: boolean } = {}): string[] {
  const out: string[] = [];
  for (const [path, na] of a.nodes) {
    const nb = b.nodes.get(path);
    if (!nb) {
      out.push(`only in first: ${path}`);
      continue;
    }
    for (const key of Object.keys({ ...na, ...nb }) as (keyof NodeInfo)[]) {
      if (opts.ignoreOwners && (key === 'uid' || key === 'gid')) continue;
      if (opts.ignoreDirMtimes && na.type === 'dir' && key === 'mtime') continue;
      if (na[key] !== nb[key]) out.push(`${path}: ${key} ${String(na[key])} != ${String(nb[key])}`);
    }
  }
  for (const path of b.nodes.keys()) if (!a.nodes.has(path)) out.push(`only in second: ${path}`);
  if (JSON.stringify(a.hardlinkGroups) !== JSON.stringify(b.hardlinkGroups)) {
    out.push(`hardlink groups differ: ${JSON.stringify(a.hardlinkGroups)} != ${JSON.stringify(b.hardlinkGroups)}`);
  }
  return out;
}
