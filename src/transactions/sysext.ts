// sysext: packages as a systemd system extension image instead of a layer.
// The same stages as install, up to the configured commit (apt resolves what
// the packages add to the base, the .deb files are unpacked with the layer
// rewrite, the maintainer scripts run in the sandbox), then what that commit
// adds to the base's /usr is packed as an erofs or squashfs image with an
// extension-release that names the base's release. The commit itself is
// thrown away: nothing of the build stays in the repository.

import { copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, renameSync, rmdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Plan } from '../apt/plan.js';
import type { BaseSelector } from '../base/select.js';
import { DeblayerError, UsageError, requireRoot } from '../errors.js';
import { checkoutDelta } from '../exec/libostree.js';
import { makeImage, requireImageTool, type ImageFormat } from '../exec/mkfs-image.js';
import { planRequest } from '../pipeline/plan.js';
import { SYSUSERS_CONF, sysusersNames } from '../scripts/sysusers.js';
import { readTextIfPresent } from '../read-text.js';
import { checkExtensionName, extensionRelease } from '../sysext/extension-release.js';
import { sysextContents, type DeltaEntry } from '../sysext/select.js';
import { buildTree, workingRef, type ComposeOptions } from './compose.js';
import { ownersFromInfo } from '../compose/compose.js';
import { diagnose, messageOf } from '../diagnostics.js';
import { openLayerBase } from './layer.js';

/** compose's options but the repository (the base's) and the mode (a commit, thrown away). */
export interface SysextOptions extends Omit<ComposeOptions, 'repo' | 'mode'> {
  selector: BaseSelector;
  /** NAME.raw: the image's name is NAME. */
  output: string;
  format: ImageFormat;
  /** Leave out what the packages put in /etc instead of refusing them. */
  withoutEtc?: boolean;
}

export interface SysextResult {
  name: string;
  output: string;
  format: ImageFormat;
  base: { label: string; commit: string };
  plan: Plan;
  extensionRelease: string;
  /** Files, directories and links in the image. */
  entries: number;
  size: number;
  notes: string[];
}

export function imageName(output: string): string {
  const file = basename(output);
  if (!file.endsWith('.raw')) throw new UsageError(`-o ${output}: a system extension image is named NAME.raw, as systemd-sysext looks for it`);
  const name = file.slice(0, -'.raw'.length);
  checkExtensionName(name);
  return name;
}

export async function buildSysext(options: SysextOptions, request: { install: string[]; localFiles: string[] }): Promise<SysextResult> {
  requireRoot('deblayer sysext');
  const name = imageName(options.output);
  if (!existsSync(dirname(options.output))) throw new DeblayerError(`cannot write ${options.output}: no directory ${dirname(options.output)}`);
  requireImageTool(options.format);
  // The base as it is: a deployment's overrides are not the extension's business.
  const { contents, env } = await openLayerBase({ ...options, overrides: { remove: [], replace: [] } }, options.selector, true);
  const base = contents.base;
  const release = extensionRelease(contents.osRelease, contents.architectures[0] ?? '', base.label);
  const { plan, skipScripts } = await planRequest(contents, env, { ...request, layered: [], drop: [] }, options.onResolved ? { onResolved: options.onResolved } : {}, options);
  if (plan.packages.length === 0) throw new DeblayerError(`nothing to put in ${name}.raw: ${base.label} has ${plan.requested.join(', ')} already`);
  const repo = base.repo;
  const work = mkdtempSync(join(repo.path, 'tmp', 'deblayer-sysext-'));
  try {
    const configured = await buildTree(
      { options: { ...options, repo: repo.path, mode: 'commit' }, contents, packages: { env }, plan, skipScripts },
      workingRef(),
      undefined,
    );
    const root = join(work, 'root');
    mkdirSync(root);
    await checkoutDelta(repo.path, base.commit, configured, '/usr', join(root, 'usr'));
    const entries = walk(root);
    // The composed database's file lists that the delta holds: those of the packages it adds.
    const info = join(root, contents.database.path, 'info');
    const selected = sysextContents(entries, {
      owners: existsSync(info) ? ownersFromInfo(info).owners : new Map(),
      databasePath: contents.database.path,
      newAccounts: accountsAdded((await repo.cat(base.commit, `usr/${SYSUSERS_CONF}`))?.toString('utf8') ?? '', readTextIfPresent(join(root, 'usr', SYSUSERS_CONF))),
      withoutEtc: options.withoutEtc ?? false,
    });
    if (selected.refusals.length > 0) {
      throw new DeblayerError(`cannot make ${name}.raw of ${plan.requested.join(', ')}: ${selected.refusals.join('; ')}`);
    }
    for (const { path, target } of selected.relink) {
      rmSync(join(root, path));
      symlinkSync(target, join(root, path));
    }
    for (const path of selected.remove) {
      rmSync(join(root, path), { recursive: true, force: true });
      // The directories that only held what was taken out (checked out to hold it) go too.
      for (let dir = dirname(path); dir !== '/usr' && dir !== '/'; dir = dirname(dir)) {
        if (!existsSync(join(root, dir)) || readdirSync(join(root, dir)).length > 0) break;
        rmdirSync(join(root, dir));
      }
    }
    const releaseDir = join(root, 'usr/lib/extension-release.d');
    mkdirSync(releaseDir, { recursive: true, mode: 0o755 });
    writeFileSync(join(releaseDir, `extension-release.${name}`), release, { mode: 0o644 });
    const packed = walk(root).length;
    const tmp = join(work, `${name}.raw`);
    await makeImage(options.format, root, tmp);
    const size = lstatSync(tmp).size;
    moveInto(tmp, options.output);
    return { name, output: options.output, format: options.format, base: { label: base.label, commit: base.commit }, plan, extensionRelease: release, entries: packed, size, notes: selected.notes };
  } finally {
    rmSync(work, { recursive: true, force: true });
    // The composed commits were only a means: their objects go, and the repository is as it was.
    await repo.prune().catch((e: unknown) => diagnose(`cannot prune ${repo.path}: ${messageOf(e)}`));
  }
}

/** The image file at OUTPUT, replaced in one rename when it is on the same file system, copied otherwise. */
function moveInto(tmp: string, output: string): void {
  try {
    renameSync(tmp, output);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    const next = `${output}.tmp-${process.pid}`;
    copyFileSync(tmp, next);
    renameSync(next, output);
  }
}

/** Every node under ROOT, as absolute commit paths; an overlayfs whiteout (a 0:0 character device) is a removal. */
function walk(root: string): DeltaEntry[] {
  const out: DeltaEntry[] = [];
  const visit = (rel: string) => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const path = `${rel}/${name}`;
      const st = lstatSync(join(root, path));
      if (st.isDirectory()) {
        out.push({ path, kind: 'directory' });
        visit(path);
      } else {
        if (st.isSymbolicLink()) out.push({ path, kind: 'symlink', target: readlinkSync(join(root, path)) });
        else out.push({ path, kind: st.isCharacterDevice() && st.rdev === 0 ? 'whiteout' : 'file' });
      }
    }
  };
  visit('');
  return out;
}

/** Account names of the sysusers.d lines AFTER has and BEFORE has not. */
function accountsAdded(before: string, after: string): string[] {
  const had = sysusersNames(before);
  return [...sysusersNames(after)].filter((n) => !had.has(n));
}
