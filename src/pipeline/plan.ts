// The plan stage: apt resolves the request against the base, the user may
// confirm, and the packages whose scripts are skipped are settled.

import type { AptEnvironment } from '../apt/environment.js';
import type { Plan } from '../apt/plan.js';
import { resolvePlan, type Request } from '../apt/resolve.js';
import type { BaseContents } from '../base/select.js';
import { DeblayerError, UsageError } from '../errors.js';
import { timedStep } from '../steps.js';
import type { StageHooks } from './stages.js';

export interface Planned {
  plan: Plan;
  /** Packages of the plan whose maintainer scripts are not run. */
  skipScripts: string[];
}

export interface PlanOptions {
  /** install --skip-scripts: names of this plan's packages. */
  skipScripts?: string[];
  /** What the origin skips already: kept for the packages still layered. */
  originSkipScripts?: string[];
  onResolved?: (plan: Plan) => void;
  /** Asked before anything is changed; false aborts. */
  confirm?: (plan: Plan) => Promise<boolean>;
}

export async function planRequest(contents: BaseContents, env: AptEnvironment, request: Request, options: PlanOptions, hooks: StageHooks): Promise<Planned> {
  const plan = await timedStep(hooks, 'resolve', () => resolvePlan(contents, env, request));
  options.onResolved?.(plan);
  if (options.confirm && !(await options.confirm(plan))) throw new DeblayerError('Abort.');
  const inPlan = (n: string) => plan.packages.some((p) => p.name === n);
  const unknown = (options.skipScripts ?? []).filter((n) => !inPlan(n));
  if (unknown.length > 0) throw new UsageError(`--skip-scripts ${unknown.join(', ')}: not a package of this transaction`);
  const skipScripts = [...new Set([...(options.originSkipScripts ?? []), ...(options.skipScripts ?? [])])].filter(inPlan);
  return { plan, skipScripts };
}
