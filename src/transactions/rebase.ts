// rebase: the deployment moves to another base branch, as rpm-ostree rebase
// does: the branch is pulled (from a remote --remote may add), and the same
// requests are composed on it, as upgrade does, with an origin that follows
// the new refspec from then on.

import { readCurrentState } from '../apt/current-state.js';
import { emptyPlan } from '../apt/plan.js';
import { DeblayerError, requireRoot } from '../errors.js';
import { OstreeSysroot, type Deployment, type OstreeRepo } from '../exec/ostree.js';
import { readDeploymentOrigin } from '../deploy/origin-file.js';
import { selectBase, type Base } from '../base/select.js';
import { recordedTransaction, type Recording } from './recorded.js';
import { layer, openLayerBase, type InstallResult, type LayerOptions } from './layer.js';
import { originOverrides, type BaseOverrides } from '../deploy/origin.js';
import { pullRebaseTarget, rebaseTarget, type RebaseTarget, type RemoteRequest } from './rebase-remote.js';

export interface RebaseResult extends InstallResult {
  previousRefspec?: string;
  refspec: string;
  previousBase: string;
  /** The new base commit; unknown in a dry run of a branch not pulled yet. */
  newBase?: string;
  /** Already on that branch and commit: nothing was done. */
  unchanged?: boolean;
}

export type RebaseOptions = Omit<LayerOptions, 'mode'> &
  RemoteRequest & {
    mode: 'dry-run' | 'deploy';
    /** [REMOTE:]BRANCH as the user gave it. */
    to: string;
    onPull?: (line: string) => void;
  };

interface From {
  current: Base;
  deployment: Deployment;
  previousRefspec: string | undefined;
  repo: OstreeRepo;
  target: RebaseTarget;
  /** The base packages it leaves out (override remove, replace). */
  overrides: BaseOverrides;
}

export async function rebase(options: RebaseOptions): Promise<RebaseResult> {
  const target = rebaseTarget(options.to, options);
  if (options.mode === 'deploy') requireRoot('deblayer rebase');
  const current = await selectBase(options.selector);
  const deployment = current.deployment;
  if (!deployment) throw new DeblayerError('rebase works on a sysroot deployment, not on --base');
  const sysroot = new OstreeSysroot(options.selector.sysroot);
  const origin = readDeploymentOrigin(sysroot, deployment);
  const previousRefspec = origin?.baseRefspec ?? deployment.refspec;
  const from: From = { current, deployment, previousRefspec, repo: sysroot.repo, target, overrides: originOverrides(origin) };
  if (options.mode !== 'deploy') return rebaseDryRun(options, from);
  return recordedTransaction(
    { sysroot: options.selector.sysroot, stateroot: deployment.stateroot, repoPath: from.repo.path, command: options.command ?? 'rebase', argv: options.argv ?? [] },
    (recording) => rebaseDeploy(options, from, recording),
    (result) => (result.deployed ? 'ok' : 'unchanged'),
  );
}

/** A dry run changes nothing, so it pulls nothing: it resolves against the branch as the repository has it, if it has it. */
async function rebaseDryRun(options: RebaseOptions, from: From): Promise<RebaseResult> {
  const { remote, refspec } = from.target;
  const known = remote === undefined || (await from.repo.remoteUrl(remote)) !== undefined;
  const base = known ? await from.repo.resolve(refspec) : undefined;
  const result = describe(from, base);
  if (base === undefined || result.unchanged) return { ...result, plan: emptyPlan(from.current.label, from.current.commit) };
  const { contents, env } = await openLayerBase(withRemovals(options, from), { ...options.selector, base, repo: from.repo.path }, false);
  const state = await readCurrentState(contents, from.deployment.checksum);
  const target = { mode: 'dry-run', contents, env, deployment: from.deployment, ...(state ? { state } : {}) } as const;
  const layered = await layer(options, { kind: 'recompose', baseRefspec: from.target.refspec }, target);
  return { ...layered, ...result };
}

async function rebaseDeploy(options: RebaseOptions, from: From, recording: Recording): Promise<RebaseResult> {
  const { repo, target } = from;
  const undo = await pullRebaseTarget(repo, target, options, options.onPull);
  try {
    const base = await repo.resolve(target.refspec);
    if (!base) throw new DeblayerError(`no branch ${target.branch} in ${repo.path}${target.remote ? '' : ' (a local branch; REMOTE:BRANCH pulls one)'}`);
    const result = describe(from, base);
    if (result.unchanged) return { ...result, plan: emptyPlan(from.current.label, base) };
    const { contents, env } = await openLayerBase(withRemovals(options, from), { ...options.selector, base, repo: repo.path }, true);
    const state = await readCurrentState(contents, from.deployment.checksum);
    const on = { mode: 'deploy', contents, env, deployment: from.deployment, recording, ...(state ? { state } : {}) } as const;
    const layered = await layer(options, { kind: 'recompose', baseRefspec: target.refspec }, on);
    return { ...layered, ...result };
  } catch (err) {
    await undo();
    throw err;
  }
}

/** The base packages the deployment leaves out, reapplied to the new base (dropped, with a note, where it makes them pointless). */
function withRemovals(options: RebaseOptions, from: From): RebaseOptions {
  return { ...options, overrides: from.overrides, onOverrideDropped: (note) => options.onNotice?.(note) };
}

function describe(from: From, newBase: string | undefined): Omit<RebaseResult, 'plan'> {
  return {
    ...(from.previousRefspec ? { previousRefspec: from.previousRefspec } : {}),
    refspec: from.target.refspec,
    previousBase: from.current.commit,
    ...(newBase ? { newBase } : {}),
    ...(newBase === from.current.commit && from.previousRefspec === from.target.refspec ? { unchanged: true } : {}),
  };
}

