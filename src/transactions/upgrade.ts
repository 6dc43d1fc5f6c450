// upgrade: a new base from where the deployment's origin says (a remote ref is
// pulled first), the package lists refreshed, and the same requests resolved
// from the base again, so that the layered packages move to the newest
// versions their sources have, even on the same base. Nothing is done when
// neither the base nor any layered package would change.

import { readCurrentState } from '../apt/current-state.js';
import { changesNothing, emptyPlan, type Plan } from '../apt/plan.js';
import { DeblayerError, requireRoot } from '../errors.js';
import { OstreeSysroot, short, type Deployment, type OstreeRepo } from '../exec/ostree.js';
import { recordedTransaction, type Recording } from './recorded.js';
import { readDeploymentOrigin } from '../deploy/origin-file.js';
import { selectBase, type Base } from '../base/select.js';
import { layer, openLayerBase, type InstallResult, type LayerOptions } from './layer.js';
import { originOverrides, type BaseOverrides } from '../deploy/origin.js';

export interface UpgradeResult extends InstallResult {
  previousBase: string;
  newBase: string;
  /** --check: the remote has a newer base than this repository; it is pulled (and the packages resolved against it) by the upgrade itself. */
  notPulled?: { remote: string; version?: string };
  /** Neither the base nor any layered package has changed: nothing was done. */
  upToDate?: boolean;
}

export type UpgradeOptions = Omit<LayerOptions, 'mode'> & {
  mode: 'dry-run' | 'deploy';
  /** --check: a base on a remote is looked up there (its summary) rather than taken as this repository last pulled it. */
  check?: boolean;
  onPull?: (line: string) => void;
};

/** Thrown from the confirmation of a deploying upgrade whose plan changes nothing: there is nothing to deploy. */
class NothingNew {
  constructor(readonly plan: Plan) {}
}

export async function upgrade(options: UpgradeOptions): Promise<UpgradeResult> {
  if (options.mode === 'deploy') requireRoot('deblayer upgrade');
  const current = await selectBase(options.selector);
  const deployment = current.deployment;
  if (!deployment) throw new DeblayerError('upgrade works on a sysroot deployment, not on --base');
  const sysroot = new OstreeSysroot(options.selector.sysroot);
  const origin = readDeploymentOrigin(sysroot, deployment);
  const refspec = origin?.baseRefspec;
  if (!refspec) throw new DeblayerError(`deployment ${short(deployment.checksum)}.${deployment.serial} has no base refspec in its origin: nothing to upgrade from`);
  const repo = sysroot.repo;
  const from: From = { current, deployment, refspec, repo, layers: origin.requested.length + origin.requestedLocal.length > 0, overrides: originOverrides(origin) };
  if (options.mode !== 'deploy') return upgradeFrom(options, from, undefined);
  // Recorded from the start, so that a failed pull or an upgrade with nothing new is in the history too.
  return recordedTransaction(
    { sysroot: options.selector.sysroot, stateroot: deployment.stateroot, repoPath: repo.path, command: options.command ?? 'upgrade', argv: options.argv ?? [] },
    (recording) => upgradeFrom(options, from, recording),
    (result) => (result.deployed ? 'ok' : 'unchanged'),
  );
}

interface From {
  current: Base;
  deployment: Deployment;
  refspec: string;
  repo: OstreeRepo;
  /** The deployment layers packages: they may move even when the base does not. */
  layers: boolean;
  /** The base packages it leaves out (override remove, replace), reapplied to the new base. */
  overrides: BaseOverrides;
}

async function upgradeFrom(options: UpgradeOptions, from: From, recording: Recording | undefined): Promise<UpgradeResult> {
  const { current, deployment, refspec, repo } = from;
  const colon = refspec.indexOf(':');
  const ref = colon >= 0 ? refspec.slice(colon + 1) : refspec;
  if (colon >= 0 && options.mode !== 'dry-run' && !options.cacheOnly) {
    await repo.pull(refspec.slice(0, colon), ref, options.onPull);
  }
  let newBase = await repo.resolve(colon >= 0 ? refspec : ref);
  if (!newBase) throw new DeblayerError(`the base refspec ${refspec} names no commit in ${repo.path}`);
  if (colon >= 0 && options.check && !options.cacheOnly) {
    const remote = refspec.slice(0, colon);
    const latest = await repo.remoteLatest(remote, ref);
    if (!latest) throw new DeblayerError(`remote ${remote} does not list ${ref} in its summary`);
    if (latest.commit === current.commit) newBase = current.commit;
    else if (latest.commit !== newBase) {
      const notPulled = { remote, ...(latest.version !== undefined ? { version: latest.version } : {}) };
      return { previousBase: current.commit, newBase: latest.commit, notPulled, plan: emptyPlan(current.label, current.commit) };
    }
  }
  if (newBase === current.commit && !from.layers) {
    return { previousBase: current.commit, newBase, upToDate: true, plan: emptyPlan(current.label, newBase) };
  }
  // The lists are refreshed, so that the layered packages can move too.
  const apt = {
    ...options,
    ...(options.cacheOnly || !from.layers ? {} : { refresh: true }),
    overrides: from.overrides,
    onOverrideDropped: (note: string) => options.onNotice?.(note),
  };
  const { contents, env } = await openLayerBase(apt, { ...options.selector, base: newBase, repo: repo.path }, recording !== undefined);
  const state = await readCurrentState(contents, deployment.checksum);
  const sameBase = newBase === current.commit;
  const upToDate = (plan: Plan) => sameBase && changesNothing(plan);
  const described = { previousBase: current.commit, newBase };
  if (!recording) {
    const result = await layer(options, { kind: 'recompose' }, { mode: 'dry-run', contents, env, deployment, ...(state ? { state } : {}) });
    return { ...result, ...described, ...(upToDate(result.plan) ? { upToDate: true } : {}) };
  }
  const confirm = async (plan: Plan) => {
    if (upToDate(plan)) throw new NothingNew(plan);
    return options.confirm ? options.confirm(plan) : true;
  };
  try {
    const result = await layer({ ...options, confirm }, { kind: 'recompose' }, { mode: 'deploy', contents, env, deployment, recording, ...(state ? { state } : {}) });
    return { ...result, ...described };
  } catch (err) {
    if (err instanceof NothingNew) return { plan: err.plan, ...described, upToDate: true };
    throw err;
  }
}
