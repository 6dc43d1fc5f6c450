// The origin a new deployment carries: what is requested (names and local
// files), the base it follows and the commit it was composed on, the scripts
// skipped. Later transactions start from it; a rebase gives it a new base refspec.

import type { Plan } from '../apt/plan.js';
import type { Origin } from '../deploy/origin.js';
import type { Deployment } from '../exec/ostree.js';
import { localId } from '../vocabulary/packages.js';

export function nextOrigin(
  previous: Origin,
  deployment: Deployment | undefined,
  plan: Plan,
  baseCommit: string,
  skipScripts: string[],
  rebaseTo?: string,
  /** The base packages it goes without (override remove), when the transaction knows them; else the previous origin's. */
  removedBase?: string[],
): Origin {
  const local = plan.packages.filter((p) => p.source.kind === 'local');
  const { skipScripts: _, overrideRemove: previousRemove, ...rest } = previous;
  const overrideRemove = removedBase ?? previousRemove ?? [];
  const baseRefspec = rebaseTo ?? previous.baseRefspec ?? (deployment?.refspec || undefined);
  return {
    ...rest,
    ...(baseRefspec !== undefined ? { baseRefspec } : {}),
    requested: [...plan.requested.filter((n) => !local.some((p) => p.name === n)), ...plan.inactive],
    requestedLocal: local.map(localId),
    baseCommit,
    ...(skipScripts.length > 0 ? { skipScripts } : {}),
    ...(overrideRemove.length > 0 ? { overrideRemove } : {}),
  };
}
