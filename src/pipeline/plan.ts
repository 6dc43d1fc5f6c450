// The plan stage: apt resolves the request against the base (install and
// uninstall: against the layered state, so that only the change moves), the
// user may confirm, and the packages whose scripts are skipped are settled.

import type { CurrentState } from '../apt/current-state.js';
import type { AptEnvironment } from '../apt/environment.js';
import { againstState, resolveAgainstState } from '../apt/resolve-state.js';
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
  /** What the deployment layers now, which the plan is told against. */
  state?: CurrentState;
  /** Ask apt for the change only, against STATE (ENV is its environment); otherwise the whole set is resolved from the base. */
  incremental?: boolean;
}

/** The request resolved as OPTIONS say: against the layered state, or from the base and then told against it. */
export async function resolveRequest(contents: BaseContents, env: AptEnvironment, request: Request, options: Pick<PlanOptions, 'state' | 'incremental'>): Promise<Plan> {
  if (options.state && options.incremental) return resolveAgainstState(contents, env, options.state, request);
  return againstState(await resolvePlan(contents, env, request), options.state);
}

export async function planRequest(contents: BaseContents, env: AptEnvironment, request: Request, options: PlanOptions, hooks: StageHooks): Promise<Planned> {
  const plan = await timedStep(hooks, 'resolve', () => resolveRequest(contents, env, request, options));
  options.onResolved?.(plan);
  if (options.confirm && !(await options.confirm(plan))) throw new DeblayerError('Abort.');
  const inPlan = (n: string) => plan.packages.some((p) => p.name === n);
  const unknown = (options.skipScripts ?? []).filter((n) => !inPlan(n));
  if (unknown.length > 0) throw new UsageError(`--skip-scripts ${unknown.join(', ')}: not a package of this transaction`);
  const skipScripts = [...new Set([...(options.originSkipScripts ?? []), ...(options.skipScripts ?? [])])].filter(inPlan);
  return { plan, skipScripts };
}
