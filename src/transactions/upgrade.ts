// upgrade: a new base from where the deployment's origin says (a remote ref is
// pulled first), and the same requests resolved and composed on it again.

import { emptyPlan } from '../apt/plan.js';
import { DeblayerError, requireRoot } from '../errors.js';
import { OstreeSysroot, short, type Deployment, type OstreeRepo } from '../exec/ostree.js';
import { recordedTransaction, type Recording } from './recorded.js';
import { readDeploymentOrigin } from '../deploy/origin-file.js';
import { selectBase, type Base } from '../base/select.js';
import { layer, openLayerBase, type InstallResult, type LayerOptions } from './layer.js';

export interface UpgradeResult extends InstallResult {
  previousBase: string;
  newBase: string;
  /** The base has not changed: nothing was done. */
  upToDate?: boolean;
}

type UpgradeOptions = Omit<LayerOptions, 'mode'> & { mode: 'dry-run' | 'deploy'; onPull?: (line: string) => void };

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
  if (options.mode !== 'deploy') return upgradeFrom(options, current, deployment, refspec, repo, undefined);
  // Recorded from the start, so that a failed pull or an upgrade with nothing new is in the history too.
  return recordedTransaction(
    { sysroot: options.selector.sysroot, stateroot: deployment.stateroot, repoPath: repo.path, command: options.command ?? 'upgrade', argv: options.argv ?? [] },
    (recording) => upgradeFrom(options, current, deployment, refspec, repo, recording),
    (result) => (result.deployed ? 'ok' : 'unchanged'),
  );
}

async function upgradeFrom(
  options: UpgradeOptions,
  current: Base,
  deployment: Deployment,
  refspec: string,
  repo: OstreeRepo,
  recording: Recording | undefined,
): Promise<UpgradeResult> {
  const colon = refspec.indexOf(':');
  const ref = colon >= 0 ? refspec.slice(colon + 1) : refspec;
  if (colon >= 0 && options.mode !== 'dry-run' && !options.cacheOnly) {
    await repo.pull(refspec.slice(0, colon), ref, options.onPull);
  }
  const newBase = await repo.resolve(colon >= 0 ? refspec : ref);
  if (!newBase) throw new DeblayerError(`the base refspec ${refspec} names no commit in ${repo.path}`);
  if (newBase === current.commit) {
    return { previousBase: current.commit, newBase, upToDate: true, plan: emptyPlan(current.label, newBase) };
  }
  const { contents, env } = await openLayerBase(options, { ...options.selector, base: newBase, repo: repo.path }, recording !== undefined);
  const target = recording
    ? ({ mode: 'deploy', contents, env, deployment, recording } as const)
    : ({ mode: 'dry-run', contents, env, deployment } as const);
  const result = await layer(options, { kind: 'recompose' }, target);
  return { ...result, previousBase: current.commit, newBase };
}

