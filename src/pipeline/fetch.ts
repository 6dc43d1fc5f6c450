// The fetch stage: apt downloads the planned .deb files that the package
// cache does not have already (a recomposition needs none). A layered package
// the change keeps is taken from the package cache even for --download-only;
// only if the cache lost it is it looked up in the lists again.

import type { AptEnvironment } from '../apt/environment.js';
import { FetchError, fetchPlan, type DownloadProgress, type FetchResult } from '../apt/fetch.js';
import { aptCache } from '../exec/apt.js';
import { parseParagraphs } from '../vocabulary/deb822.js';
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
  onDownload?: (p: DownloadProgress) => void;
}

export function refOf(p: PlannedPackage): string {
  return packageRef(p.name, p.version, p.architecture);
}

export async function fetchPackages(env: AptEnvironment, plan: Plan, packageCache: PackageCache, options: FetchOptions, hooks: StageHooks): Promise<Fetched> {
  const kept = (p: PlannedPackage) => p.current === p.version;
  const look = options.useCache ? plan.packages : plan.packages.filter(kept);
  const cached = await packageCache.lookup(look.map((p) => ({ name: p.name, version: p.version, architecture: p.architecture })));
  const missing = await locateKept(env, plan.packages.filter((p) => !cached.has(refOf(p))));
  const result = await timedStep(hooks, 'download', () =>
    fetchPlan(env, { ...plan, packages: missing }, {
      ...(options.cacheOnly !== undefined ? { cacheOnly: options.cacheOnly } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      ...(options.onDownload ? { onDownload: options.onDownload } : {}),
    }),
  );
  return { result, cached, missing };
}

/**
 * PACKAGES with the archive fields (file name, SHA256) of the kept ones, which
 * the plan does not carry, from the lists: a kept package that neither the
 * package cache nor the lists have any more is an error naming it.
 */
async function locateKept(env: AptEnvironment, packages: PlannedPackage[]): Promise<PlannedPackage[]> {
  const lost = packages.filter((p) => p.current === p.version && p.source.kind === 'archive' && p.source.filename === '');
  if (lost.length === 0) return packages;
  const r = await aptCache(env.invocation, ['show', ...lost.map((p) => `${p.name}:${p.architecture}=${p.version}`)], 'cannot look up layered packages', { allowFailure: true });
  const found = new Map<string, Record<string, string>>();
  for (const f of parseParagraphs(r.stdout)) if (f.Filename) found.set(`${f.Package}=${f.Version}`, f);
  const gone = lost.filter((p) => !found.has(`${p.name}=${p.version}`));
  if (gone.length > 0) {
    throw new FetchError(
      `the layered package${gone.length > 1 ? 's' : ''} ${gone.map((p) => `${p.name} ${p.version}`).join(', ')} ${gone.length > 1 ? 'are' : 'is'} neither in the package cache nor in the sources' lists any more: deblayer upgrade moves layered packages to versions the sources have`,
    );
  }
  return packages.map((p) => {
    const f = lost.includes(p) ? found.get(`${p.name}=${p.version}`) : undefined;
    if (!f) return p;
    return { ...p, downloadSize: Number(f.Size ?? 0), source: { kind: 'archive', filename: f.Filename!, ...(f.SHA256 ? { sha256: f.SHA256 } : {}) } };
  });
}
