// The package cache: each .deb is unpacked once, with the OSTree rewrite, and
// committed into the repository as its own commit under
// deblayer/pkg/NAME/VERSION_ARCH. Recomposing, uninstalling and upgrading reuse
// these commits instead of unpacking again, as rpm-ostree does with rpmostree/pkg/.
//
// What the dpkg database needs (file list, md5sums, control members) is a
// record: its control file is commit metadata, and the whole record is a file
// in the commit, usr/share/deblayer/packages/NAME_ARCH.json, because commit
// metadata can only be given to `ostree commit` on its command line (128 KiB
// an argument), and a large package's file list is more. The record file also
// tells a booted host what was layered.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { openDeb, readDebControl } from '../deb/index.js';
import { DeblayerError } from '../errors.js';
import type { OstreeRepo } from '../exec/ostree.js';
import { unpackLayer, type LayerManifest } from './unpack.js';

export interface ControlMember {
  name: string;
  mode: number;
  /** base64 */
  data: string;
}

/** What the package commit's metadata holds (`deblayer.package`). */
export interface PackageRecord extends Omit<LayerManifest, 'stats'> {
  /** The control file as shipped. */
  controlText: string;
  /** Every control.tar member but `control` (dpkg keeps them as info/PKG.NAME). */
  members: ControlMember[];
  multiArchSame: boolean;
  /** md5 of each conffile as unpacked (the Conffiles field of dpkg's status). */
  conffileMd5: Record<string, string>;
}

export interface CachedPackage {
  ref: string;
  commit: string;
  record: PackageRecord;
}

// ostree refs allow [\w.-] in a component: the other characters of Debian
// versions (+ ~ :) and '_' itself are written as _XX, reversibly.
export function escapeRefComponent(text: string): string {
  return text.replace(/[^A-Za-z0-9.-]/g, (c) => `_${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

export function packageRef(name: string, version: string, architecture: string): string {
  return `deblayer/pkg/${escapeRefComponent(name)}/${escapeRefComponent(version)}_${escapeRefComponent(architecture)}`;
}

export const RECORDS_DIR = 'usr/share/deblayer/packages';

export function recordPath(name: string, architecture: string): string {
  return `${RECORDS_DIR}/${name}_${architecture}.json`;
}

/** The cached commit of this package version, or undefined. */
export async function findCachedPackage(repo: OstreeRepo, name: string, version: string, architecture: string): Promise<CachedPackage | undefined> {
  const ref = packageRef(name, version, architecture);
  const commit = await repo.resolve(ref);
  if (!commit) return undefined;
  const text = await repo.cat(commit, recordPath(name, architecture));
  if (text === undefined) throw new DeblayerError(`${ref} (commit ${commit.slice(0, 10)}) has no /${recordPath(name, architecture)}: not a deblayer package commit`);
  return { ref, commit, record: JSON.parse(text.toString('utf8')) as PackageRecord };
}

/** Unpacks DEB into a layer tree and commits it to the package cache (or returns the cached commit). */
export async function cachePackage(repo: OstreeRepo, deb: string, options: { timestamp?: number } = {}): Promise<CachedPackage & { imported: boolean }> {
  const layout = openDeb(deb);
  const control = await readDebControl(layout);
  const { package: name, version, architecture } = control.fields;
  const cached = await findCachedPackage(repo, name, version, architecture);
  if (cached) return { ...cached, imported: false };
  mkdirSync(join(repo.path, 'tmp'), { recursive: true });
  const stage = mkdtempSync(join(repo.path, 'tmp', 'deblayer-pkg-'));
  try {
    const tree = join(stage, 'tree');
    const manifest = await unpackLayer(layout, control, tree);
    const { stats: _stats, ...rest } = manifest;
    const record: PackageRecord = {
      ...rest,
      controlText: control.controlText,
      members: control.files
        .filter((f) => f.name !== 'control')
        .map((f) => ({ name: f.name, mode: f.mode, data: f.data.toString('base64') })),
      multiArchSame: control.fields.multiArch === 'same',
      conffileMd5: Object.fromEntries(
        control.conffiles
          .filter((c) => existsSync(join(tree, layerPath(c.path))))
          .map((c) => [c.path, createHash('md5').update(readFileSync(join(tree, layerPath(c.path)))).digest('hex')]),
      ),
    };
    const ref = packageRef(name, version, architecture);
    const recordFile = join(tree, recordPath(name, architecture));
    mkdirSync(dirname(recordFile), { recursive: true });
    writeFileSync(recordFile, JSON.stringify(record) + '\n', { mode: 0o644 });
    const commit = await repo.commit({
      branch: ref,
      trees: [{ dir: tree }],
      subject: `deblayer package ${name} ${version} ${architecture}`,
      metadata: { 'deblayer.control': control.controlText, version },
      // Package commits are content: no time in them, so the same .deb gives the same commit.
      timestamp: options.timestamp ?? 0,
    });
    return { ref, commit, record, imported: true };
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

/** Where a conffile (always under /etc) is in the layer tree. */
function layerPath(conffile: string): string {
  return conffile.replace(/^\/etc\//, 'usr/etc/');
}
