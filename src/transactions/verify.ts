// compose --verify COMMIT: the commit built again from what its metadata
// records (the base commit, the packages in apt's order, the scripts skipped),
// with the packages from the package cache, and compared path by path. What
// differs is what maintainer scripts make differently on each run (a
// timestamp, a random seed): the list tells a builder what to look at before
// trusting that the build is the manifest's and nothing else.

import { join } from 'node:path';
import type { Plan, PlannedPackage } from '../apt/plan.js';
import { CommitCache } from '../base/commit-cache.js';
import { readBaseContents, selectBase, type BaseContents } from '../base/select.js';
import { PackageCache, type CachedPackage } from '../compose/package-cache.js';
import { DeblayerError } from '../errors.js';
import { OstreeRepo, short } from '../exec/ostree.js';
import { packageRef, parseStatePackages } from '../vocabulary/packages.js';
import { buildTree, COMPOSE_KEYS, workingRef, type ComposeOptions } from './compose.js';

export interface VerifyResult {
  commit: string;
  /** The rebuilt commit (kept by no ref: the next prune removes it). */
  rebuilt: string;
  contentChecksum: { commit: string; rebuilt: string };
  identical: boolean;
  differences: { change: 'A' | 'D' | 'M'; path: string }[];
}

export async function verifyCompose(commitish: string, options: Omit<ComposeOptions, 'mode'>): Promise<VerifyResult> {
  const repo = new OstreeRepo(options.repo);
  const commit = await repo.resolve(commitish);
  if (!commit) throw new DeblayerError(`no ref or commit '${commitish}' in ${options.repo}`);
  const info = await repo.commitInfo(commit);
  const baseCommit = info.metadata[COMPOSE_KEYS.base];
  if (typeof baseCommit !== 'string') {
    throw new DeblayerError(`${commitish} (${short(commit)}) was not made by deblayer compose: its metadata has no ${COMPOSE_KEYS.base}`);
  }
  const cache = new CommitCache(join(options.settings.cacheDir, 'bases'));
  const contents = await readBaseContents(await selectBase({ sysroot: '/', repo: options.repo, base: baseCommit, cache }));
  const { plan, cached } = await recordedPlan(contents, info.metadata);
  const skipScripts = words(info.metadata[COMPOSE_KEYS.skipScripts]);
  const rebuilt = await buildTree({ options: { ...options, mode: 'commit' }, contents, packages: { cached }, plan, skipScripts }, workingRef(), info.parent);
  const [mine, theirs, differences] = await Promise.all([repo.contentChecksum(commit), repo.contentChecksum(rebuilt), repo.diff(commit, rebuilt)]);
  return { commit, rebuilt, contentChecksum: { commit: mine, rebuilt: theirs }, identical: mine === theirs, differences };
}

function words(value: unknown): string[] {
  return typeof value === 'string' ? value.split(' ').filter((w) => w !== '') : [];
}

/** The plan the commit was composed from, and its packages as the package cache has them (under one of the base's architectures). */
async function recordedPlan(contents: BaseContents, metadata: Record<string, unknown>): Promise<{ plan: Plan; cached: Map<string, CachedPackage> }> {
  const recorded = parseStatePackages(metadata[COMPOSE_KEYS.packages]);
  const requested = words(metadata[COMPOSE_KEYS.requested]);
  const architectures = [...contents.architectures, 'all'];
  const present = await new PackageCache(contents.base.repo, undefined).lookup(
    recorded.flatMap((p) => architectures.map((architecture) => ({ ...p, architecture }))),
  );
  const packages: PlannedPackage[] = recorded.map((p) => {
    const architecture = architectures.find((a) => present.has(packageRef(p.name, p.version, a)));
    if (!architecture) throw new DeblayerError(`${p.name} ${p.version}: not in the package cache of ${contents.base.repo.path}, which a rebuild takes its packages from`);
    return {
      ...p,
      architecture,
      origin: 'package cache',
      downloadSize: 0,
      installedSize: 0,
      reason: requested.includes(p.name) ? 'requested' : 'dependency',
      source: { kind: 'archive', filename: '' },
    };
  });
  return {
    plan: { base: { label: contents.base.label, commit: contents.base.commit }, requested, inactive: [], packages, downloadSize: 0, installedSize: 0 },
    cached: present,
  };
}
