// rollback: the previous deployment becomes the default again and the current
// one is kept (rpm-ostree's behaviour): a reorder of the deployments, nothing
// is deployed. On a booted host whose default is a newer pending deployment,
// the booted one becomes the default again. `--to N` deploys the commit of
// layer state N again (ref deblayer/state/N) with the origin recorded in it,
// and records that deployment as a new layer state, a copy of N: history then
// lists it, and status names the deployment's state.

import { DeblayerError, NotASysrootError, requireRoot } from '../errors.js';
import { setDefaultDeployment } from '../exec/libostree.js';
import { OstreeSysroot, short, type Deployment } from '../exec/ostree.js';
import { deployCommit, type DeployResult } from '../deploy/deploy.js';
import { parseOrigin } from '../deploy/origin.js';
import { recordedTransaction, type Recording } from './recorded.js';
import { forgetState, nextStateNumber, recordDeployed, recordStateCopy } from '../pipeline/record.js';
import { stateRef } from '../vocabulary/packages.js';
import { diagnose, messageOf } from '../diagnostics.js';
import { forgetNextResolver } from '../apt/ahead.js';
import { forgetLiveEtc, liveEtcRecord } from '../deploy/live-state.js';
import { MountNamespace } from '../exec/namespace.js';
import { remountWritable } from '../exec/mount.js';
import { undoEtc } from '../live/apply-tree.js';

export interface RollbackResult {
  /** The deployment that is the default now. */
  deployment: Deployment;
  path: string;
  /** For --to: the state's commit, deployed again, and the layer state recorded for it (when the database has state N). */
  redeployed?: DeployResult & { state: number; commit: string; recordedState?: number };
  /** Paths of its /etc that apply-live had added or replaced, taken back. */
  etcUndone?: number;
}

export async function rollback(sysrootPath: string, options: { os?: string; to?: number; argv?: string[]; cacheDir?: string } = {}): Promise<RollbackResult> {
  requireRoot('deblayer rollback');
  const sysroot = new OstreeSysroot(sysrootPath);
  const all = await sysroot.deployments();
  const current = all.find((d) => !d.staged && (options.os === undefined || d.stateroot === options.os));
  if (!current) throw new NotASysrootError(`no deployments${options.os ? ` of '${options.os}'` : ''} in ${sysrootPath}`);
  const result = await recordedTransaction(
    { sysroot: sysrootPath, stateroot: current.stateroot, repoPath: sysroot.repo.path, command: 'rollback', argv: options.argv ?? [] },
    (recording) => rollbackIn(sysroot, sysrootPath, current, all, options, recording),
  );
  if (options.cacheDir !== undefined) forgetNextResolver({ sysroot: sysrootPath, cacheDir: options.cacheDir });
  return result;
}

async function rollbackIn(
  sysroot: OstreeSysroot,
  sysrootPath: string,
  current: Deployment,
  all: Deployment[],
  options: { to?: number },
  recording: Recording,
): Promise<RollbackResult> {
  if (options.to !== undefined) return redeployState(sysroot, sysrootPath, current.stateroot, options.to, recording);
  return reorder(sysroot, sysrootPath, current.stateroot, all);
}

/** rollback --to N: state N's commit deployed again with its origin, recorded as a new state (a copy of N) when the database has N. */
async function redeployState(sysroot: OstreeSysroot, sysrootPath: string, stateroot: string, n: number, recording: Recording): Promise<RollbackResult> {
  const ref = stateRef(n);
  const commit = await sysroot.repo.resolve(ref);
  if (!commit) throw new DeblayerError(`layer state ${n} is not kept any more (no ref ${ref} in ${sysroot.repo.path})`);
  const info = await sysroot.repo.commitInfo(commit);
  const originText = info.metadata['deblayer.origin'];
  if (typeof originText !== 'string') throw new DeblayerError(`${ref} (${short(commit)}) records no origin: not a deblayer layer state`);
  // Recorded before the deploy, given its deployment after, as install does: a
  // kill in between leaves a pending state, which the next transaction drops with its ref.
  const next = nextStateNumber(recording);
  const copy = recordStateCopy(recording, n, next, stateroot) ? next : undefined;
  let redeployed: DeployResult;
  try {
    if (copy !== undefined) await sysroot.repo.createRef(stateRef(copy), commit);
    redeployed = await deployCommit(sysroot, commit, parseOrigin(originText), stateroot, sysrootPath);
  } catch (err) {
    if (copy !== undefined) {
      forgetState(recording, copy);
      // The commit may be deployed already (state N's own deployment): the transaction's cleanup would keep this ref.
      await sysroot.repo.deleteRef(stateRef(copy)).catch((e: unknown) => diagnose(`rollback: cannot delete ${stateRef(copy)}: ${messageOf(e)}`));
    }
    throw err;
  }
  if (copy !== undefined) recordDeployed(recording, copy, redeployed.path);
  const now = (await sysroot.deployments()).find((d) => d.checksum === commit && d.stateroot === stateroot && redeployed.path.endsWith(`/${d.checksum}.${d.serial}`))!;
  return { deployment: now, path: redeployed.path, redeployed: { ...redeployed, state: n, commit, ...(copy !== undefined ? { recordedState: copy } : {}) } };
}

/** The previous deployment (or the booted one, when a newer one waits) becomes the default again: nothing is deployed. */
async function reorder(sysroot: OstreeSysroot, sysrootPath: string, stateroot: string, all: Deployment[]): Promise<RollbackResult> {
  if (all.some((d) => d.staged)) {
    throw new DeblayerError('a deployment is staged (it is finalized at shutdown): reboot into it first, or remove it with ostree admin undeploy');
  }
  const mine = all.filter((d) => d.stateroot === stateroot);
  const booted = mine.find((d) => d.booted);
  // Booted but not the default: a newer deployment waits; going back means the booted one again.
  const target = booted && booted.index !== mine[0]!.index ? booted : mine[1];
  if (!target) throw new DeblayerError(`there is no previous deployment of '${stateroot}' to roll back to`);
  try {
    await setDefaultDeployment(sysrootPath, stateroot, target.checksum, target.serial);
  } catch (err) {
    // libostree writes the new order before its own cleanup: when that order
    // is on disk, the rollback happened, and saying it failed would be false.
    const first = (await sysroot.deployments()).find((d) => d.stateroot === stateroot && !d.staged);
    if (first?.checksum !== target.checksum || first.serial !== target.serial) throw err;
    diagnose(`rollback: the deployments were reordered, then: ${messageOf(err)}`);
  }
  const now = (await sysroot.deployments()).find((d) => d.checksum === target.checksum && d.serial === target.serial)!;
  const etcUndone = sysrootPath === '/' && !now.booted ? await undoLiveEtc(now) : 0;
  return { deployment: now, path: sysroot.deploymentPath(now), ...(etcUndone > 0 ? { etcUndone } : {}) };
}

/**
 * apply-live wrote into the /etc of the deployment it ran on, and that /etc
 * outlived the reboot: going back to that deployment takes those paths back,
 * so that it runs as it did before (no unit or config of packages it lacks).
 * Its /etc is under the read-only /sysroot: written in a mount namespace of
 * deblayer's own.
 */
async function undoLiveEtc(d: Deployment): Promise<number> {
  const record = liveEtcRecord(d);
  if (!record) return 0;
  const ns = await MountNamespace.open();
  try {
    await remountWritable(ns, '/sysroot');
    const undone = await undoEtc(ns, new OstreeSysroot('/sysroot').deploymentPath(d), record);
    forgetLiveEtc(d);
    return undone;
  } finally {
    await ns.close();
  }
}
