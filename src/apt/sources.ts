// The package sources apt resolves a base against, gathered from one place:
// --source options, else /etc/deblayer, else the base's own /usr/etc/apt. The
// keys that sign them come along (trusted.gpg.d and every Signed-By file), read
// from the same tree as the sources, and are copied into deblayer's private
// configuration with the Signed-By paths rewritten to the copies: the base's
// keys, not the host's, decide what is trusted.

import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, posix } from 'node:path';
import { DeblayerError } from '../errors.js';
import type { OstreeRepo } from '../exec/ostree.js';
import { readSubtrees, type SubtreeEntry } from '../exec/libostree.js';

export interface SourceFile {
  /** File name in sources.list.d. */
  name: string;
  text: string;
}

export interface KeyFile {
  name: string;
  data: Buffer;
}

export interface SourceSet {
  /** Where the sources came from, for messages. */
  origin: string;
  files: SourceFile[];
  /** Keys trusted for every source (trusted.gpg.d). */
  trusted: KeyFile[];
  /** Files named by Signed-By, by the path the source gives. */
  signedBy: Map<string, KeyFile>;
}

/** Reads files of one tree (the base commit, or the host) by their absolute paths in it. */
export interface TreeReader {
  read(path: string): Promise<Buffer | undefined>;
  list(dir: string): Promise<string[] | undefined>;
}

export class HostReader implements TreeReader {
  async read(path: string): Promise<Buffer | undefined> {
    try {
      return statSync(path).isFile() ? readFileSync(path) : undefined;
    } catch {
      return undefined;
    }
  }
  async list(dir: string): Promise<string[] | undefined> {
    try {
      return readdirSync(dir).sort();
    } catch {
      return undefined;
    }
  }
}

/**
 * A base commit seen as the booted host would see it: /etc is /usr/etc. Follows
 * symlinks. Where apt's configuration and keys usually are is read in one
 * libostree run on first use; other paths are asked of ostree one by one.
 */
export class CommitReader implements TreeReader {
  static readonly PREFETCHED = ['usr/etc/apt', 'usr/share/keyrings'];
  private snapshot: Promise<Map<string, SubtreeEntry>> | undefined;

  constructor(
    private readonly repo: OstreeRepo,
    private readonly commit: string,
  ) {}

  private inCommit(path: string): string {
    const p = posix.normalize(path).replace(/^\/+/, '');
    return p === 'etc' || p.startsWith('etc/') ? `usr/${p}` : p;
  }

  private prefetched(p: string): boolean {
    return CommitReader.PREFETCHED.some((d) => p === d || p.startsWith(`${d}/`));
  }

  /** One entry (symlinks not followed), and its children's names for a directory. */
  private async entry(p: string): Promise<(SubtreeEntry & { children?: () => Promise<string[]> }) | undefined> {
    if (this.prefetched(p)) {
      this.snapshot ??= readSubtrees(this.repo.path, this.commit, CommitReader.PREFETCHED);
      const snap = await this.snapshot;
      const e = snap.get(p);
      if (!e) return undefined;
      return {
        ...e,
        children: async () => [...snap.keys()].filter((k) => posix.dirname(k) === p).map((k) => basename(k)),
      };
    }
    const e = (await this.repo.ls(this.commit, p))?.[0];
    if (!e) return undefined;
    return {
      type: e.type,
      ...(e.target !== undefined ? { target: e.target } : {}),
      children: async () => ((await this.repo.ls(this.commit, p, { children: true })) ?? []).map((c) => basename(c.path)),
    };
  }

  private async resolve(path: string, hops = 0): Promise<{ path: string; entry: NonNullable<Awaited<ReturnType<CommitReader['entry']>>> } | undefined> {
    const p = this.inCommit(path);
    const entry = await this.entry(p);
    if (!entry) return undefined;
    if (entry.type === 'symlink' && entry.target !== undefined && hops < 16) {
      const t = entry.target.startsWith('/') ? entry.target : posix.join(posix.dirname(`/${p}`), entry.target);
      return this.resolve(t, hops + 1);
    }
    return { path: p, entry };
  }

  async read(path: string): Promise<Buffer | undefined> {
    const r = await this.resolve(path);
    if (r?.entry.type !== 'file') return undefined;
    return r.entry.data ?? this.repo.cat(this.commit, r.path);
  }

  async list(dir: string): Promise<string[] | undefined> {
    const r = await this.resolve(dir);
    if (r?.entry.type !== 'directory') return undefined;
    return (await r.entry.children!()).sort();
  }
}

const KEY_FILE = /\.(gpg|asc)$/;

/** Sources and keys of an apt configuration directory (/etc/apt, /etc/deblayer) in a tree. */
export async function readSourceDir(reader: TreeReader, dir: string, origin: string): Promise<SourceSet> {
  const files: SourceFile[] = [];
  const main = await reader.read(`${dir}/sources.list`);
  if (main) files.push({ name: '00-sources.list', text: main.toString('utf8') });
  for (const name of (await reader.list(`${dir}/sources.list.d`)) ?? []) {
    if (!/\.(list|sources)$/.test(name)) continue;
    const data = await reader.read(`${dir}/sources.list.d/${name}`);
    if (data) files.push({ name, text: data.toString('utf8') });
  }
  const set: SourceSet = { origin, files, trusted: await readTrusted(reader, dir), signedBy: new Map() };
  await readSignedBy(reader, set);
  return set;
}

export async function readTrusted(reader: TreeReader, dir: string): Promise<KeyFile[]> {
  const keys: KeyFile[] = [];
  const legacy = await reader.read(`${dir}/trusted.gpg`);
  if (legacy) keys.push({ name: 'trusted.gpg', data: legacy });
  for (const name of (await reader.list(`${dir}/trusted.gpg.d`)) ?? []) {
    if (!KEY_FILE.test(name)) continue;
    const data = await reader.read(`${dir}/trusted.gpg.d/${name}`);
    if (data) keys.push({ name, data });
  }
  return keys;
}

/** Sources given on the command line: one-line entries ("deb URI SUITE COMPONENT...") or files. */
export async function readSourceOptions(values: string[], trusted: KeyFile[]): Promise<SourceSet> {
  const host = new HostReader();
  const files: SourceFile[] = [];
  const lines: string[] = [];
  for (const value of values) {
    if (/^deb(-src)?\s/.test(value.trim())) {
      lines.push(value.trim());
      continue;
    }
    const data = await host.read(value);
    if (!data) throw new DeblayerError(`--source ${value}: neither a "deb URI SUITE COMPONENT..." line nor a readable file`);
    const name = basename(value);
    if (!/\.(list|sources)$/.test(name)) throw new DeblayerError(`--source ${value}: a sources file must end in .list or .sources`);
    files.push({ name, text: data.toString('utf8') });
  }
  if (lines.length > 0) files.unshift({ name: 'command-line.list', text: lines.join('\n') + '\n' });
  const set: SourceSet = { origin: '--source', files, trusted, signedBy: new Map() };
  await readSignedBy(host, set);
  return set;
}

/** Every Signed-By path the sources name, read from the tree the sources came from. */
async function readSignedBy(reader: TreeReader, set: SourceSet): Promise<void> {
  for (const file of set.files) {
    for (const path of signedByPaths(file.text)) {
      if (set.signedBy.has(path)) continue;
      const data = await reader.read(path);
      if (!data) {
        throw new DeblayerError(`${set.origin}: ${file.name} names the key ${path} (Signed-By), which does not exist there`);
      }
      set.signedBy.set(path, { name: `${set.signedBy.size}-${basename(path)}`, data });
    }
  }
}

/** Absolute key paths in one-line `[signed-by=...]` options and deb822 `Signed-By:` fields. */
export function signedByPaths(text: string): string[] {
  const paths: string[] = [];
  for (const m of text.matchAll(/^\s*deb(?:-src)?\s+\[([^\]]*)\]/gm)) {
    for (const opt of m[1]!.trim().split(/\s+/)) {
      const kv = /^signed-by=(.*)$/i.exec(opt);
      if (kv) paths.push(...kv[1]!.split(',').filter((p) => p.startsWith('/')));
    }
  }
  for (const m of text.matchAll(/^Signed-By:[ \t]*(\S[^\n]*)$/gim)) {
    paths.push(...m[1]!.trim().split(/[\s,]+/).filter((p) => p.startsWith('/')));
  }
  return paths;
}

/** The sources with each Signed-By path replaced by `rename(path)`. */
export function rewriteSignedBy(text: string, rename: (path: string) => string): string {
  const one = text.replace(/^(\s*deb(?:-src)?\s+\[)([^\]]*)\]/gm, (_all, head: string, opts: string) => {
    const rewritten = opts.replace(/(signed-by=)(\S+)/gi, (_m, k: string, v: string) =>
      k + v.split(',').map((p) => (p.startsWith('/') ? rename(p) : p)).join(','),
    );
    return `${head}${rewritten}]`;
  });
  return one.replace(/^(Signed-By:[ \t]*)(\S[^\n]*)$/gim, (_all, k: string, v: string) =>
    // Several keyrings are separated by commas or spaces, as signedByPaths reads them.
    k + v.replace(/\/[^\s,]+/g, (p) => rename(p)),
  );
}
