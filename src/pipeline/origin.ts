// The origin a new deployment carries: what is requested (names and local
// files), the base it follows and the commit it was composed on, the scripts
// skipped. Later transactions start from it; a rebase gives it a new base refspec.

import type { Plan } from '../apt/plan.js';
import { originOverrides, type Origin } from '../deploy/origin.js';
import type { Deployment } from '../exec/ostree.js';
import { localId } from '../vocabulary/packages.js';

export function nextOrigin(
  previous: Origin,
  deployment: Deployment | undefined,
  plan: Plan,
  baseCommit: string,
  skipScripts: string[],
  rebaseTo?: string,
  /**
   * The base packages it leaves out, when the transaction knows them (else
   * the previous origin's): removed ones, and replaced ones, whose
   * replacements the plan holds.
   */
  leftOut?: { remove: string[]; replace: string[] },
): Origin {
  const { skipScripts: _, overrideRemove: previousRemove, overrideReplace: __, overrideReplaceLocal: ___, ...rest } = previous;
  const replaced = leftOut?.replace ?? originOverrides(previous).replace.map((r) => r.name);
  const replacements = plan.packages.filter((p) => replaced.includes(p.name));
  const local = plan.packages.filter((p) => p.source.kind === 'local' && !replaced.includes(p.name));
  const overrideRemove = leftOut?.remove ?? previousRemove ?? [];
  const overrideReplace = replacements.filter((p) => p.source.kind !== 'local').map((p) => `${p.name}=${p.version}`);
  const overrideReplaceLocal = replacements.filter((p) => p.source.kind === 'local').map(localId);
  const baseRefspec = rebaseTo ?? previous.baseRefspec ?? (deployment?.refspec || undefined);
  return {
    ...rest,
    ...(baseRefspec !== undefined ? { baseRefspec } : {}),
    requested: [...plan.requested.filter((n) => !local.some((p) => p.name === n) && !replaced.includes(n)), ...plan.inactive],
    requestedLocal: local.map(localId),
    baseCommit,
    ...(skipScripts.length > 0 ? { skipScripts } : {}),
    ...(overrideRemove.length > 0 ? { overrideRemove } : {}),
    ...(overrideReplace.length > 0 ? { overrideReplace } : {}),
    ...(overrideReplaceLocal.length > 0 ? { overrideReplaceLocal } : {}),
  };
}
