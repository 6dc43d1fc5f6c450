// The fetch stage: apt downloads the planned .deb files that the package
// cache does not have already (a recomposition needs none).

import type { AptEnvironment } from '../apt/environment.js';
import { fetchPlan, type FetchResult } from '../apt/fetch.js';
import type { Plan, PlannedPackage } from '../apt/plan.js';
import type { CachedPackage, PackageCache } from '../compose/package-cache.js';
import { timedStep } from '../steps.js';
import { packageRef } from '../vocabulary/packages.js';
import type { StageHooks } from './stages.js';

export interface Fetched {
  result: FetchResult;
  /** The plan's packages the cache has, by package ref. */
  cached: Map<string, CachedPackage>;
  /** The plan's packages it has not: their .deb files are in `result`. */
  missing: PlannedPackage[];
}

export interface FetchOptions {
  /** Look in the package cache first (false for --download-only: every file is downloaded). */
  useCache: boolean;
  cacheOnly?: boolean;
  onProgress?: (line: string) => void;
}

export function refOf(p: PlannedPackage): string {
  return packageRef(p.name, p.version, p.architecture);
}

export async function fetchPackages(env: AptEnvironment, plan: Plan, packageCache: PackageCache, options: FetchOptions, hooks: StageHooks): Promise<Fetched> {
  const cached = options.useCache
    ? await packageCache.lookup(plan.packages.map((p) => ({ name: p.name, version: p.version, architecture: p.architecture })))
    : new Map<string, CachedPackage>();
  const missing = plan.packages.filter((p) => !cached.has(refOf(p)));
  const result = await timedStep(hooks, 'download', () =>
    fetchPlan(env, { ...plan, packages: missing }, {
      ...(options.cacheOnly !== undefined ? { cacheOnly: options.cacheOnly } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    }),
  );
  return { result, cached, missing };
}
