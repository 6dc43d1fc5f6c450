// Composition: the base commit and the package commits combined into one new
// commit, with the dpkg database that lists them. ostree itself overlays the
// trees (`--tree=ref=` for the base and each package, then the database), so
// no unchanged base file is checked out, read or written again; deblayer only
// checks first that the trees may be combined:
//   - the same path with identical content (ostree's checksum covers content,
//     mode and owner) is fine, and directories merge;
//   - anything else shipped twice is a conflict naming both owners, unless the
//     later package declares Replaces on the owner, as dpkg allows.

import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DeblayerError, EXIT } from '../errors.js';
import type { OstreeRepo } from '../exec/ostree.js';
import type { BaseContents } from '../base/select.js';
import { writeDpkgDatabase } from './dpkg-database.js';
import type { TreeIndex } from './tree-index.js';
import type { CachedPackage, PackageRecord } from './package-cache.js';

export class FileConflictError extends DeblayerError {
  constructor(message: string) {
    super(message, { exitCode: EXIT.fileConflict });
  }
}

/** Names a package Replaces, without versions or architectures. */
export function replacedNames(record: PackageRecord): Set<string> {
  const field = /^Replaces:(.*(?:\n[ \t].*)*)/m.exec(record.controlText)?.[1] ?? '';
  return new Set(
    field
      .split(',')
      .map((r) => r.trim().split(/[\s(:]/)[0]!)
      .filter((n) => n !== ''),
  );
}

/** Where a path of a dpkg .list file is in an OSTree tree (etc in usr/etc, merged /usr). */
export function treePathOf(listed: string): string {
  const p = listed.replace(/^\/+/, '');
  if (p === 'etc' || p.startsWith('etc/')) return `usr/${p}`;
  if (/^(bin|sbin|lib|lib32|lib64|libx32)(\/|$)/.test(p)) return `usr/${p}`;
  return p;
}

export interface ComposeInput {
  repo: OstreeRepo;
  contents: BaseContents;
  /** In apt's installation order. */
  packages: CachedPackage[];
  /** The base's entries of these paths (those that exist). */
  baseEntries: (paths: string[]) => Promise<TreeIndex>;
  /** Owner of a base path, read only when a conflict needs a name. */
  baseOwners: () => Promise<Map<string, string>>;
  branch: string;
  subject: string;
  metadata: Record<string, string>;
  /** The packages' status: `unpacked` when the scripts stage configures them. */
  state?: 'installed' | 'unpacked';
}

export async function checkConflicts(input: Pick<ComposeInput, 'packages' | 'baseEntries' | 'baseOwners'>): Promise<void> {
  const owner = new Map<string, { kind: 'base' } | { kind: 'package'; name: string }>();
  // Only the paths the packages ship are read from the base: the cost follows the layer.
  const merged: TreeIndex = await input.baseEntries([...new Set(input.packages.flatMap((p) => Object.keys(p.index)))]);
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
      let ownerName: string;
      if (previous?.kind === 'package') ownerName = previous.name;
      else ownerName = (await input.baseOwners()).get(path) ?? 'the base';
      if (replaces.has(ownerName)) {
        merged[path] = entry;
        owner.set(path, { kind: 'package', name: pkg.record.package });
        continue;
      }
      const what = before === 'd' || entry === 'd' ? 'a directory in one and a file in the other' : 'different content';
      throw new FileConflictError(
        `package ${pkg.record.package} ${pkg.record.version} and ${ownerName === 'the base' ? 'the base' : `${previous?.kind === 'package' ? 'package' : 'base package'} ${ownerName}`} both ship /${path}, with ${what}${
          ownerName !== 'the base' ? ` (${pkg.record.package} would need Replaces: ${ownerName})` : ''
        }`,
      );
    }
  }
}

/** Writes the layered commit; returns its checksum. */
export async function composeCommit(input: ComposeInput): Promise<string> {
  await checkConflicts(input);
  const { repo, contents } = input;
  mkdirSync(join(repo.path, 'tmp'), { recursive: true });
  const stage = mkdtempSync(join(repo.path, 'tmp', 'deblayer-db-'));
  try {
    writeDpkgDatabase(stage, contents.database.path, contents.statusText, input.packages.map((p) => p.record), input.state ?? 'installed');
    return await repo.commit({
      branch: input.branch,
      parent: contents.base.commit,
      trees: [{ ref: contents.base.commit }, ...input.packages.map((p) => ({ ref: p.commit })), { dir: stage }],
      subject: input.subject,
      metadata: input.metadata,
    });
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

/** path -> package, from the .list files of a checked-out info directory. */
export function ownersFromInfo(infoDir: string): Map<string, string> {
  const owners = new Map<string, string>();
  for (const name of readdirSync(infoDir)) {
    if (!name.endsWith('.list')) continue;
    const pkg = name.slice(0, -'.list'.length).replace(/:.*$/, '');
    for (const line of readFileSync(join(infoDir, name), 'utf8').split('\n')) {
      if (line !== '' && line !== '/.') owners.set(treePathOf(line), pkg);
    }
  }
  return owners;
}

