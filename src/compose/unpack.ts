// Unpacking a package's data.tar into a directory: raw (what dpkg-deb -x
// produces) or as an OSTree layer (relocated by LayerRewriter, with a
// tmpfiles.d fragment and the manifest the dpkg database needs later).

import { mkdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readDataEntries, type DebControl, type DebEntry, type DebLayout } from '../deb/index.js';
import { DeblayerError, LayerMappingError } from '../errors.js';
import { LayerRewriter, type Placement } from './layer-rewrite.js';
import { declaredPaths, formatTmpfilesConf, type TmpfilesLine } from '../vocabulary/tmpfiles.js';
import { TreeWriter } from './tree-writer.js';
import type { PackageFiles } from '../vocabulary/packages.js';

export interface UnpackOptions {
  /** Called for every entry before it is written (for -v listings). */
  onEntry?: (entry: DebEntry) => void;
}

export interface UnpackStats {
  entries: number;
  /** Bytes of regular-file content written. */
  bytes: number;
}

function prepareTarget(target: string): string {
  try {
    mkdirSync(target, { recursive: true });
    const real = realpathSync(target);
    if (!statSync(real).isDirectory()) throw new DeblayerError(`${target}: not a directory`);
    return real;
  } catch (err) {
    if (err instanceof DeblayerError) throw err;
    throw new DeblayerError(`${target}: cannot use as target directory: ${(err as Error).message}`, { cause: err });
  }
}

/** Unpack exactly as `dpkg-deb -x` would (modes, numeric owners as root, mtimes, hardlinks). */
export async function unpackRaw(layout: DebLayout, target: string, options: UnpackOptions = {}): Promise<UnpackStats> {
  const writer = new TreeWriter(prepareTarget(target), layout.file);
  const stats: UnpackStats = { entries: 0, bytes: 0 };
  for await (const { entry, body } of readDataEntries(layout)) {
    options.onEntry?.(entry);
    await writer.write(entry.path, entry, body);
    stats.entries++;
    stats.bytes += entry.size;
  }
  writer.finish();
  return stats;
}

export interface LayerManifest extends PackageFiles {
  stats: UnpackStats;
}

export function tmpfilesConfPath(packageName: string): string {
  return `usr/lib/tmpfiles.d/deblayer-${packageName}.conf`;
}

// The directories of /var that every Debian base has, and declares already
// (systemd's var.conf, or deblayer-base.conf from base import). dpkg leaves an
// existing directory as it is, and a second line for the same path is a
// "Duplicate line" warning at every boot.
const VAR_SKELETON = new Set(['/var', '/var/cache', '/var/lib', '/var/log', '/var/spool', '/var/tmp', '/var/mail', '/var/opt', '/var/local', '/var/backups']);

/**
 * LINES without the /var skeleton's directories and without the paths that
 * tmpfiles.d files already DECLARED: those are the package's word on them
 * (dbus's /var/lib/dbus, ...). Compose does the same with what the other
 * layered packages declare (src/compose/compose.ts).
 */
function withoutDeclared(lines: TmpfilesLine[], declared: Set<string>): TmpfilesLine[] {
  return lines.filter((l) => !(l.type === 'd' && VAR_SKELETON.has(l.path)) && !declared.has(l.path));
}

/** The paths the package's own tmpfiles.d files (in TARGET, placed as PLACED says) declare. */
function ownDeclarations(target: string, placed: Map<string, Placement>): Set<string> {
  const declared = new Set<string>();
  for (const placement of placed.values()) {
    if (placement.kind !== 'tree' || !/^usr\/lib\/tmpfiles\.d\/[^/]+\.conf$/.test(placement.path)) continue;
    let text: string;
    try {
      text = readFileSync(join(target, placement.path), 'utf8');
    } catch {
      continue; // a link out of the package: nothing it declares is known here
    }
    for (const p of declaredPaths(text)) declared.add(p);
  }
  return declared;
}

/** The package's tmpfiles.d fragment, written into the tree as if the package shipped it; returns its path. */
async function writeTmpfilesConf(writer: TreeWriter, pkg: string, version: string, tmpfiles: TmpfilesLine[], mtime: number): Promise<string> {
  const conf = tmpfilesConfPath(pkg);
  const text = Buffer.from(formatTmpfilesConf(`Written by deblayer for ${pkg} ${version}: content the package ships outside /usr.`, tmpfiles));
  const confEntry: DebEntry = { path: conf, type: 'file', mode: 0o644, uid: 0, gid: 0, uname: 'root', gname: 'root', size: text.length, mtime };
  const body = {
    consume: async (onChunk: (chunk: Buffer) => void) => onChunk(text),
    skip: () => undefined,
  };
  await writer.write(conf, confEntry, body);
  return conf;
}

/** Unpack a package as an OSTree layer tree: see layer-rewrite.ts for the mapping. */
export async function unpackLayer(
  layout: DebLayout,
  control: DebControl,
  target: string,
  options: UnpackOptions = {},
): Promise<LayerManifest> {
  const pkg = control.fields.package;
  const root = prepareTarget(target);
  const writer = new TreeWriter(root, layout.file);
  const rewriter = new LayerRewriter(pkg);
  const placed = new Map<string, Placement>();
  const computeMd5 = control.md5sums.size === 0;
  const computed: Record<string, string> = {};
  const files: string[] = [];
  const stats: UnpackStats = { entries: 0, bytes: 0 };
  let newest = 0;
  for await (const { entry, body } of readDataEntries(layout)) {
    options.onEntry?.(entry);
    files.push(entry.path === '' ? '/.' : `/${entry.path}`);
    newest = Math.max(newest, entry.mtime);
    const placement = rewriter.place(entry);
    if (entry.type !== 'directory') placed.set(entry.path, placement);
    stats.entries++;
    stats.bytes += entry.size;
    if (placement.kind === 'host') {
      body.skip();
      continue;
    }
    let linkTo: string | undefined;
    if (entry.type === 'hardlink') {
      const target = placed.get(entry.linkTarget!);
      if (target?.kind === 'host') {
        throw new LayerMappingError(pkg, entry.path, `hardlink to '/${entry.linkTarget}', which the layer does not carry as a file`);
      }
      linkTo = target?.path ?? entry.linkTarget;
    }
    const md5 = await writer.write(placement.path, entry, body, { md5: computeMd5, ...(linkTo ? { linkTo } : {}) });
    if (md5 !== undefined) computed[`/${entry.path}`] = md5;
    // A hardlink has its target's content.
    if (computeMd5 && entry.type === 'hardlink') {
      const sum = computed[`/${entry.linkTarget}`];
      if (sum !== undefined) computed[`/${entry.path}`] = sum;
    }
  }
  const declared = ownDeclarations(root, placed);
  const tmpfiles = withoutDeclared(rewriter.tmpfiles, declared);
  const manifest: LayerManifest = {
    package: pkg,
    version: control.fields.version,
    architecture: control.fields.architecture,
    files,
    md5sums: computeMd5 ? computed : Object.fromEntries(control.md5sums),
    conffiles: control.conffiles,
    tmpfiles,
    tmpfilesDeclared: [...declared].sort(),
    stats,
  };
  if (tmpfiles.length > 0) manifest.tmpfilesConf = await writeTmpfilesConf(writer, pkg, control.fields.version, tmpfiles, newest);
  writer.finish();
  return manifest;
}
