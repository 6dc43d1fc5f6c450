// The purge stage of an incremental uninstall: the dropped packages purged by
// dpkg from the current state (src/scripts/purge.ts), and the result committed
// as the new state, its parent the base.

import type { Plan, RemovedPackage } from '../apt/plan.js';
import type { PackageCache } from '../compose/package-cache.js';
import type { Origin } from '../deploy/origin.js';
import { DeblayerError } from '../errors.js';
import { lookupPaths } from '../exec/libostree.js';
import { purgePackages } from '../scripts/purge.js';
import { timedStep } from '../steps.js';
import type { PackageRecord } from '../vocabulary/packages.js';
import type { CurrentState } from '../apt/current-state.js';
import { stateMetadata } from './compose.js';
import { hostAccountsInput, type Configured, type ConfigureRequest } from './configure.js';
import type { StageHooks } from './stages.js';

export interface PurgeRequest extends Omit<ConfigureRequest, 'packages' | 'skipScripts' | 'onto'> {
  plan: Plan;
  origin: Origin;
  /** The current state; the plan, told against it, lists what it removes. */
  onto: CurrentState;
  packageCache: PackageCache;
  ref: string;
}

export async function purgeState(r: PurgeRequest, hooks: StageHooks): Promise<Configured> {
  const { base, database } = r.contents;
  const gone = r.plan.removed ?? [];
  const metadata = { ...stateMetadata({ contents: r.contents, plan: r.plan, origin: r.origin, onto: r.onto }), 'deblayer.scripts': 'configured' };
  const subject = `Layer ${r.plan.requested.join(', ') || 'nothing'} on ${base.label}`;
  const result = await timedStep(
    hooks,
    'scripts',
    async () => {
      const { records, generated } = await droppedTrees(r, gone);
      const result = await purgePackages({
        repo: base.repo,
        state: r.onto.commit,
        base: base.commit,
        database: database.path,
        records,
        targets: records,
        generated,
        ...hostAccountsInput(r),
        branch: r.ref,
        subject,
        metadata,
        output: r.output,
        ...(r.onLine ? { onLine: r.onLine } : {}),
      });
      for (const n of result.notices) r.onNotice?.(n);
      return result;
    },
    `purging ${gone.length} package${gone.length === 1 ? '' : 's'}`,
  );
  return { commit: { checksum: result.commit, ref: r.ref }, configure: true, subject, metadata, accounts: result.accounts };
}

/**
 * The dropped packages' records, and the paths of their trees that neither
 * the base nor a package that stays has: what removing them leaves to remove.
 */
async function droppedTrees(r: PurgeRequest, gone: RemovedPackage[]): Promise<{ records: PackageRecord[]; generated: string[] }> {
  const ids = gone.map(({ name, version, architecture }) => ({ name, version, architecture }));
  const [dropped, kept] = await Promise.all([
    r.packageCache.lookup(ids),
    r.packageCache.lookup(r.plan.packages.map((p) => ({ name: p.name, version: p.version, architecture: p.architecture }))),
  ]);
  const missing = ids.filter((id) => ![...dropped.values()].some((c) => c.record.package === id.name && c.record.version === id.version));
  if (missing.length > 0) {
    throw new DeblayerError(`${missing.map((m) => `${m.name} ${m.version}`).join(', ')}: not in the package cache, which an uninstall reads the package's tree from (deblayer uninstall --rebuild derives the state again)`);
  }
  const keptPaths = new Set([...kept.values()].flatMap((c) => Object.keys(c.index)));
  const candidates = [...new Set([...dropped.values()].flatMap((c) => Object.keys(c.index)))].filter((p) => !keptPaths.has(p));
  const inBase = await lookupPaths(r.contents.base.repo.path, r.contents.base.commit, candidates);
  return { records: [...dropped.values()].map((c) => c.record), generated: candidates.filter((p) => inBase[p] === undefined) };
}
