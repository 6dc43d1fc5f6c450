// cleanup: drop what no kept state needs. Layer states are kept by their refs
// (deblayer/state/N, what rollback --to deploys); with `states`, those whose
// commit is not deployed any more are dropped too. Package-cache commits that
// no kept state uses go, then ostree prunes what no ref reaches. With
// `downloads`, the downloaded .deb files in the cache go as well.

import { readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { OstreeSysroot, type Deployment } from '../exec/ostree.js';
import { LayerDatabase, layerDatabasePath } from '../db/layer-db.js';
import { dropOrphanStateRefs, stateRefs } from './leftovers.js';
import { takeLock } from './lock.js';
import { PACKAGE_REFS, packageRefPrefix, parseStatePackages, STATE_REFS } from '../vocabulary/packages.js';
import { requireRoot } from '../errors.js';

export interface CleanupResult {
  removedStates: string[];
  removedPackages: string[];
  removedDownloads: number;
  /** CACHE/bases/COMMIT directories of bases no deployment uses any more. */
  removedBaseCaches: string[];
  prune: string;
}

export async function cleanup(sysrootPath: string, options: { states?: boolean; downloads?: boolean; cacheDir: string }): Promise<CleanupResult> {
  requireRoot('deblayer cleanup');
  const sysroot = new OstreeSysroot(sysrootPath);
  const deployments = await sysroot.deployments();
  const stateroot = deployments[0]?.stateroot;
  const unlock = stateroot ? takeLock(`${dirname(layerDatabasePath(sysrootPath, stateroot))}/lock`, `${sysrootPath} (${stateroot})`) : () => {};
  try {
    // Refs of states no database names (a killed transaction's) go first, whatever the options.
    const db = stateroot ? LayerDatabase.open(layerDatabasePath(sysrootPath, stateroot), { create: false }) : undefined;
    let orphans: string[] = [];
    try {
      if (db) orphans = await dropOrphanStateRefs(sysrootPath, sysroot.repo, sysroot, db, await stateRefs(sysroot.repo));
    } finally {
      db?.close();
    }
    const result = await cleanupLocked(sysroot, deployments, options);
    return { ...result, removedStates: [...orphans, ...result.removedStates] };
  } finally {
    unlock();
  }
}

async function cleanupLocked(
  sysroot: OstreeSysroot,
  deployments: Deployment[],
  options: { states?: boolean; downloads?: boolean; cacheDir: string },
): Promise<CleanupResult> {
  const repo = sysroot.repo;
  const deployed = new Set(deployments.map((d) => d.checksum));
  const removedStates: string[] = [];
  const kept: string[] = [];
  for (const ref of await repo.refs(STATE_REFS)) {
    const commit = await repo.resolve(ref);
    if (options.states && commit && !deployed.has(commit)) {
      await repo.deleteRef(ref);
      removedStates.push(ref);
    } else if (commit) kept.push(commit);
  }
  // Package commits that kept states (and deployed layered commits) are made of.
  const needed = new Set<string>();
  for (const commit of new Set([...kept, ...deployed])) {
    const info = await repo.commitInfo(commit);
    for (const p of parseStatePackages(info.metadata['deblayer.packages'])) needed.add(packageRefPrefix(p.name, p.version));
  }
  const removedPackages: string[] = [];
  for (const ref of await repo.refs(PACKAGE_REFS)) {
    // deblayer/pkg/NAME/VERSION_ARCH: kept when NAME/VERSION is needed, whatever the architecture.
    if (!needed.has(ref.replace(/_[^_/]*$/, '_'))) {
      await repo.deleteRef(ref);
      removedPackages.push(ref);
    }
  }
  const prune = await repo.prune();
  // What the cache holds about package commits that are gone (a commit's record never changes, so only these).
  const pkgRefs = await repo.refs(PACKAGE_REFS);
  const livePackages = new Set(await repo.resolveAll(pkgRefs));
  for (const c of safeList(join(options.cacheDir, 'packages'))) {
    if (/^[0-9a-f]{64}$/.test(c) && !livePackages.has(c)) rmSync(join(options.cacheDir, 'packages', c), { recursive: true, force: true });
  }
  // What the cache holds about bases that no deployment here is based on.
  const bases = new Set(deployments.map((d) => d.checksum));
  for (const commit of deployed) {
    const base = (await repo.commitInfo(commit)).metadata['deblayer.base'];
    if (typeof base === 'string') bases.add(base);
  }
  const removedBaseCaches = safeList(join(options.cacheDir, 'bases')).filter((c) => /^[0-9a-f]{64}$/.test(c) && !bases.has(c));
  for (const c of removedBaseCaches) rmSync(join(options.cacheDir, 'bases', c), { recursive: true, force: true });
  let removedDownloads = 0;
  if (options.downloads) {
    const archives = join(options.cacheDir, 'archives');
    for (const name of safeList(archives)) {
      if (!name.endsWith('.deb')) continue;
      rmSync(join(archives, name), { force: true });
      removedDownloads++;
    }
  }
  return { removedStates, removedPackages, removedDownloads, removedBaseCaches, prune };
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
