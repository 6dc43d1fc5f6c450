// Composition: the base commit and the package commits combined into one new
// commit, with the dpkg database that lists them. libostree overlays the trees
// (the base and each package commit, then the database: commitUnion), so no
// file is checked out, read or written again; deblayer only checks first that
// the trees may be combined:
//   - the same path with identical content (ostree's checksum covers content,
//     mode and owner) is fine, and directories merge;
//   - anything else shipped twice is a conflict naming both owners, unless the
//     one package declares Replaces on the other, as dpkg allows. dpkg gives
//     the file to the replacing package in either unpack order ("Replaced by
//     files in installed package"), so the packages are laid replaced first
//     (replacesOrder), and the plan's order does not matter.

import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DeblayerError, EXIT } from '../errors.js';
import type { OstreeRepo } from '../exec/ostree.js';
import { commitUnion } from '../exec/libostree.js';
import type { BaseContents } from '../base/select.js';
import { writeDpkgDatabase } from './dpkg-database.js';
import { formatTmpfilesConf } from '../vocabulary/tmpfiles.js';
import type { TreeIndex } from './tree-index.js';
import type { CachedPackage } from './package-cache.js';
import type { PackageRecord } from '../vocabulary/packages.js';
import { rawField } from '../vocabulary/deb822.js';
import { stagingDir } from '../staging.js';
import { treePathOf } from '../vocabulary/ostree-paths.js';

export class FileConflictError extends DeblayerError {
  constructor(message: string) {
    super(message, { exitCode: EXIT.fileConflict });
  }
}

/** Names a package Replaces, without versions or architectures. */
export function replacedNames(record: PackageRecord): Set<string> {
  const field = rawField(record.controlText, 'Replaces') ?? '';
  return new Set(
    field
      .split(',')
      .map((r) => r.trim().split(/[\s(:]/)[0]!)
      .filter((n) => n !== ''),
  );
}

export interface ComposeInput {
  repo: OstreeRepo;
  contents: BaseContents;
  packages: CachedPackage[];
  /** The base's entries of these paths (those that exist). */
  baseEntries: (paths: string[]) => Promise<TreeIndex>;
  /** Who owns each base path, read only when a conflict needs a name. */
  baseOwners: () => Promise<BaseOwnership>;
  branch: string;
  subject: string;
  metadata: Record<string, string>;
  /** The packages' status: `unpacked` when the scripts stage configures them. */
  state?: 'installed' | 'unpacked';
  /**
   * An incremental state: the commit whose tree the packages are laid on (the
   * current state's), its dpkg status, and the packages it layers (a conflict
   * names them as layered, not the base's). The base stays the parent, so
   * that a state never keeps the states before it alive.
   */
  onto?: { commit: string; statusText: string; layered: Set<string> };
}

/** A path a package takes over from its owner, which its Replaces allows. */
export interface Takeover {
  path: string;
  to: string;
  from: { kind: 'base'; prefix: string } | { kind: 'package'; name: string };
}

/**
 * PACKAGES with each one after the layered packages it Replaces, otherwise in
 * the order given. A cycle of Replaces is broken where it closes: the package
 * it started from comes after the others (and so wins the paths they share).
 */
export function replacesOrder(packages: CachedPackage[]): CachedPackage[] {
  const byName = new Map(packages.map((p) => [p.record.package, p]));
  const placed = new Set<CachedPackage>();
  const visiting = new Set<CachedPackage>();
  const out: CachedPackage[] = [];
  const place = (p: CachedPackage) => {
    if (placed.has(p) || visiting.has(p)) return;
    visiting.add(p);
    for (const name of replacedNames(p.record)) {
      const replaced = byName.get(name);
      if (replaced && replaced !== p) place(replaced);
    }
    visiting.delete(p);
    placed.add(p);
    out.push(p);
  };
  for (const p of packages) place(p);
  return out;
}

/**
 * Checks that the packages, in the order they are laid (replacesOrder), may be
 * laid over the base; returns the files they take over.
 */
export async function checkConflicts(input: Pick<ComposeInput, 'packages' | 'baseEntries' | 'baseOwners' | 'onto'>): Promise<Takeover[]> {
  const owner = new Map<string, { kind: 'base' } | { kind: 'package'; name: string }>();
  // Only the paths the packages ship are read from the base: the cost follows the layer.
  const merged: TreeIndex = await input.baseEntries([...new Set(input.packages.flatMap((p) => Object.keys(p.index)))]);
  const takeovers: Takeover[] = [];
  for (const pkg of input.packages) {
    const index = pkg.index;
    const replaces = replacedNames(pkg.record);
    for (const [path, entry] of Object.entries(index)) {
      const before = merged[path];
      if (before === undefined || (before === 'd' && entry === 'd') || before === entry) {
        merged[path] = entry;
        if (!owner.has(path) && entry !== 'd') owner.set(path, { kind: 'package', name: pkg.record.package });
        continue;
      }
      const previous = owner.get(path);
      const basePrefix = previous?.kind === 'package' ? undefined : (await input.baseOwners()).owners.get(path);
      const ownerName = previous?.kind === 'package' ? previous.name : basePrefix !== undefined ? basePrefix.replace(/:.*$/, '') : 'the base';
      if (replaces.has(ownerName)) {
        merged[path] = entry;
        owner.set(path, { kind: 'package', name: pkg.record.package });
        // dpkg moves the file to its new owner: the old owner's .list and .md5sums lose it.
        takeovers.push({
          path,
          to: pkg.record.package,
          from: previous?.kind === 'package' ? { kind: 'package', name: previous.name } : { kind: 'base', prefix: basePrefix! },
        });
        continue;
      }
      const what = before === 'd' || entry === 'd' ? 'a directory in one and a file in the other' : 'different content';
      throw new FileConflictError(
        `package ${pkg.record.package} ${pkg.record.version} and ${ownerName === 'the base' ? 'the base' : `${previous?.kind === 'package' ? 'package' : input.onto?.layered.has(ownerName) ? 'layered package' : 'base package'} ${ownerName}`} both ship /${path}, with ${what}${
          ownerName !== 'the base' ? ` (${pkg.record.package} would need Replaces: ${ownerName})` : ''
        }`,
      );
    }
  }
  return takeovers;
}

/** A .list or .md5sums text without the lines of PATHS (tree paths). */
export function withoutPaths(text: string, paths: Set<string>, kind: 'list' | 'md5sums'): string {
  return text
    .split('\n')
    .filter((line) => {
      if (line === '') return false;
      const listed = kind === 'list' ? line : `/${line.replace(/^[0-9a-f]+ +/, '')}`;
      return !paths.has(treePathOf(listed));
    })
    .map((line) => `${line}\n`)
    .join('');
}

/** Records of layered packages that lost files to later packages, with those files left out. */
function afterTakeovers(records: PackageRecord[], takeovers: Takeover[]): PackageRecord[] {
  return records.map((r) => {
    const lost = new Set(takeovers.filter((t) => t.from.kind === 'package' && t.from.name === r.package).map((t) => t.path));
    if (lost.size === 0) return r;
    return {
      ...r,
      files: r.files.filter((f) => !lost.has(treePathOf(f))),
      md5sums: Object.fromEntries(Object.entries(r.md5sums).filter(([f]) => !lost.has(treePathOf(f)))),
      members: r.members.map((m) =>
        m.name === 'md5sums' ? { ...m, data: Buffer.from(withoutPaths(Buffer.from(m.data, 'base64').toString('utf8'), lost, 'md5sums')).toString('base64') } : m,
      ),
    };
  });
}

/** Writes the layered commit; returns its checksum. */
export async function composeCommit(composeInput: ComposeInput): Promise<string> {
  const input = { ...composeInput, packages: replacesOrder(composeInput.packages) };
  const takeovers = await checkConflicts(input);
  const { repo, contents } = input;
  const stage = stagingDir(repo.path, 'db');
  try {
    const under = input.onto ?? { commit: contents.base.commit, statusText: contents.statusText };
    writeDpkgDatabase(stage, contents.database.path, under.statusText, afterTakeovers(input.packages.map((p) => p.record), takeovers), input.state ?? 'installed');
    writeFragmentsDeclaredElsewhere(stage, input.packages.map((p) => p.record));
    const fromBase = takeovers.filter((t): t is Takeover & { from: { kind: 'base'; prefix: string } } => t.from.kind === 'base');
    if (fromBase.length > 0) {
      const { info } = await input.baseOwners();
      for (const prefix of new Set(fromBase.map((t) => t.from.prefix))) {
        const lost = new Set(fromBase.filter((t) => t.from.prefix === prefix).map((t) => t.path));
        const files = info.get(prefix)!;
        const dir = join(stage, contents.database.path, 'info');
        writeFileSync(join(dir, `${prefix}.list`), withoutPaths(files.list, lost, 'list'), { mode: 0o644 });
        if (files.md5sums !== undefined) writeFileSync(join(dir, `${prefix}.md5sums`), withoutPaths(files.md5sums, lost, 'md5sums'), { mode: 0o644 });
      }
    }
    return await commitUnion(repo.path, {
      branch: input.branch,
      parent: contents.base.commit,
      trees: [{ ref: under.commit }, ...input.packages.map((p) => ({ ref: p.commit })), { dir: stage }],
      subject: input.subject,
      metadata: input.metadata,
    });
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

/**
 * A package's tmpfiles.d fragment (what it ships under /var, as lines) without
 * the paths that another layered package's own tmpfiles.d declares: dbus ships
 * /var/lib/dbus, and dbus-daemon's dbus.conf declares it. Two lines
 * for one path are a "Duplicate line" warning at every boot. The rewritten
 * fragment goes in the last tree of the commit, over the package's own.
 */
function writeFragmentsDeclaredElsewhere(stage: string, records: PackageRecord[]): void {
  const declaredBy = new Map<string, string[]>();
  for (const r of records) for (const path of r.tmpfilesDeclared ?? []) declaredBy.set(path, [...(declaredBy.get(path) ?? []), r.package]);
  for (const r of records) {
    if (!r.tmpfilesConf) continue;
    const others = (path: string) => (declaredBy.get(path) ?? []).filter((name) => name !== r.package);
    const owners = [...new Set(r.tmpfiles.flatMap((l) => others(l.path)))];
    if (owners.length === 0) continue;
    mkdirSync(dirname(join(stage, r.tmpfilesConf)), { recursive: true });
    writeFileSync(
      join(stage, r.tmpfilesConf),
      formatTmpfilesConf(
        `Written by deblayer for ${r.package} ${r.version}: content the package ships outside /usr (what ${owners.join(', ')} declare left to them).`,
        r.tmpfiles.filter((l) => others(l.path).length === 0),
      ),
      { mode: 0o644 },
    );
  }
}

export interface BaseOwnership {
  /** Tree path -> the info file prefix of its owner (PKG, or PKG:ARCH for Multi-Arch: same). */
  owners: Map<string, string>;
  /** Info file prefix -> its .list and .md5sums as the base has them. */
  info: Map<string, { list: string; md5sums?: string }>;
}

/** Who owns each path, from the .list (and .md5sums) files of a checked-out info directory. */
export function ownersFromInfo(infoDir: string): BaseOwnership {
  const owners = new Map<string, string>();
  const info = new Map<string, { list: string; md5sums?: string }>();
  for (const name of readdirSync(infoDir)) {
    if (!name.endsWith('.list')) continue;
    const prefix = name.slice(0, -'.list'.length);
    const list = readFileSync(join(infoDir, name), 'utf8');
    let md5sums: string | undefined;
    try {
      md5sums = readFileSync(join(infoDir, `${prefix}.md5sums`), 'utf8');
    } catch {
      // not every package has one
    }
    info.set(prefix, md5sums === undefined ? { list } : { list, md5sums });
    for (const line of list.split('\n')) {
      if (line !== '' && line !== '/.') owners.set(treePathOf(line), prefix);
    }
  }
  return { owners, info };
}
