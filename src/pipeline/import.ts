// The import stage: each fetched .deb is unpacked once into the package cache
// (a commit of its own); local files are kept beside, so that later
// transactions can resolve them again.

import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fetchKey } from '../apt/fetch.js';
import type { Plan } from '../apt/plan.js';
import type { CachedPackage, PackageCache } from '../compose/package-cache.js';
import { timedStep } from '../steps.js';
import { localId } from '../vocabulary/packages.js';
import { refOf, type Fetched } from './fetch.js';
import type { StageHooks } from './stages.js';

export interface Imported {
  /** Every package of the plan, in its order, from the cache. */
  packages: CachedPackage[];
  /** Names of the packages unpacked by this import. */
  imported: string[];
}

export async function importPackages(packageCache: PackageCache, plan: Plan, fetched: Fetched, hooks: StageHooks): Promise<Imported> {
  const imported: string[] = [];
  const { cached, missing } = fetched;
  const packages = await timedStep(
    hooks,
    'import',
    async () => {
      const fresh = await packageCache.import(
        missing.map((p) => fetched.result.files.get(fetchKey(p))!),
        missing.map((p) => ({ name: p.name, version: p.version, architecture: p.architecture })),
        (name) => hooks.onCount?.('import', imported.push(name), missing.length, name),
      );
      for (const p of fresh) cached.set(p.ref, p);
      return plan.packages.map((p) => cached.get(refOf(p))!);
    },
    `${missing.length} of ${plan.packages.length} packages`,
  );
  return { packages, imported };
}

/** Copies the plan's local .deb files into LOCALDIR, named as origins name them. */
export function keepLocalFiles(plan: Plan, localDir: string): void {
  mkdirSync(localDir, { recursive: true });
  for (const p of plan.packages) {
    if (p.source.kind !== 'local') continue;
    const kept = join(localDir, `${localId(p)}.deb`);
    if (p.source.path !== kept) copyFileSync(p.source.path, kept);
  }
}
