// install, as far as the plan: resolve the request against the base with apt,
// then (unless --dry-run) fetch the .deb files. Layering them onto the base and
// deploying is the layering engine's part.

import type { AptSettings } from '../apt/environment.js';
import { fetchPlan, type FetchResult } from '../apt/fetch.js';
import type { Plan } from '../apt/plan.js';
import { resolvePlan, type Request } from '../apt/resolve.js';
import type { BaseSelector } from '../base/select.js';
import { openBaseApt, type BaseAptOptions } from './base-apt.js';

export interface InstallOptions extends BaseAptOptions {
  selector: BaseSelector;
  settings: AptSettings;
  request: Request;
  /** Resolve only. */
  dryRun?: boolean;
  onResolved?: (plan: Plan) => void;
}

export interface InstallResult {
  plan: Plan;
  fetched?: FetchResult;
}

export async function install(options: InstallOptions): Promise<InstallResult> {
  const { contents, env } = await openBaseApt(options.selector, options.settings, options);
  const plan = await resolvePlan(contents, env, options.request);
  options.onResolved?.(plan);
  if (options.dryRun) return { plan };
  const fetched = await fetchPlan(env, plan, {
    ...(options.cacheOnly !== undefined ? { cacheOnly: options.cacheOnly } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  return { plan, fetched };
}
