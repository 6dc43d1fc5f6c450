// apply-live: what the next deployment adds to the booted one, usable now,
// as rpm-ostree apply-live. /usr of the booted deployment gets a transient
// overlay (ostree admin unlock --transient: read-only to everyone but the
// mount namespace that remounts it), the target's new files are copied into
// it, /etc takes the new defaults the admin has not changed, and systemd
// learns of the new accounts, tmpfiles and units. The staged deployment stays
// what boots next, and holds the same files: the reboot changes nothing that
// apply-live made. Anything that is not an addition (a package that changes
// or goes, a new base) waits for that reboot.

import { existsSync } from 'node:fs';
import { DeblayerError, requireRoot } from '../errors.js';
import { sysrootStatus, type DeploymentStatus } from '../deploy/status.js';
import { recordLiveCommit, recordLiveEtc } from '../deploy/live-state.js';
import { MountNamespace } from '../exec/namespace.js';
import { remountWritable } from '../exec/mount.js';
import { OstreeSysroot, short } from '../exec/ostree.js';
import { createAccounts, createTmpfiles, daemonReload } from '../exec/systemd.js';
import { liveAdditions } from '../live/additions.js';
import { applyUsr, enabledUnits, mergeEtc, type EtcMerge } from '../live/apply-tree.js';
import { liveTreeChanges } from '../live/tree-changes.js';
import { recordedTransaction } from './recorded.js';
import { SYSUSERS_FILE } from '../scripts/sysusers.js';

export interface ApplyLiveOptions {
  argv: string[];
  /** The commit the caller just deployed: the target must be it. */
  expect?: string;
  onStep?: (text: string) => void;
}

export interface ApplyLiveResult {
  booted: string;
  target: string;
  /** The target was live already: nothing was done. */
  unchanged: boolean;
  /** NAME=VERSION of the packages the target adds to the booted deployment. */
  addedPackages: string[];
  files: { added: number; changed: number; removed: number };
  etc: EtcMerge;
  /** Units the change enables: known to systemd now, started at the next boot or by hand. */
  enabledUnits: string[];
  /** What systemd could not do of it (accounts, tmpfiles, the reload): the files are live all the same. */
  warnings: string[];
}

interface LiveTarget {
  booted: DeploymentStatus;
  /** What boots next, when it is not the booted deployment. */
  next?: DeploymentStatus;
}

/** The booted deployment (not unlocked for good: see refuseHotfix) and what boots next, on the running host only: apply-live changes what runs. */
async function liveTarget(command: string): Promise<LiveTarget> {
  requireRoot(`deblayer ${command}`);
  if (!existsSync('/run/ostree-booted')) throw new DeblayerError(`${command} changes the running system, and this machine is not booted into an OSTree deployment (no /run/ostree-booted)`);
  const all = await sysrootStatus('/');
  const booted = all.find((d) => d.booted);
  if (!booted) throw new DeblayerError('ostree lists no booted deployment: apply-live changes the running system only');
  refuseHotfix(booted);
  const next = all.find((d) => d.stateroot === booted.stateroot);
  return { booted, ...(next && next !== booted ? { next } : {}) };
}

function refuse(booted: DeploymentStatus, target: DeploymentStatus, why: string): DeblayerError {
  return new DeblayerError(`cannot apply ${short(target.checksum)} live on the booted ${short(booted.checksum)}: ${why}. It takes effect at the next boot`);
}

/** A hotfix unlock writes into the deployment itself: live changes there would outlive the reboot. */
function refuseHotfix(booted: DeploymentStatus): void {
  if (booted.unlocked === 'hotfix') throw new DeblayerError(`cannot apply live: /usr of the booted ${short(booted.checksum)} is unlocked in hotfix mode, and apply-live would write into the deployment for good`);
}

function checkAdditions(booted: DeploymentStatus, target: DeploymentStatus): string[] {
  const { added, refusals } = liveAdditions(booted, target);
  if (refusals.length > 0) throw refuse(booted, target, `apply-live makes additions only, and ${refusals.join('; ')}`);
  return added;
}

/**
 * What install --apply-live checks before it changes anything: a booted host,
 * and a next deployment (if one is staged already) that only adds to the
 * booted one. The install's own plan is checked against the same rule.
 */
export async function checkLiveInstall(): Promise<void> {
  const { booted, next } = await liveTarget('install --apply-live');
  if (next) checkAdditions(booted, next);
}

export async function applyLive(options: ApplyLiveOptions): Promise<ApplyLiveResult> {
  const { booted, next } = await liveTarget('apply-live');
  if (!next) throw new DeblayerError('nothing to apply live: the booted deployment is also the next one (deblayer install --apply-live PKG stages a deployment and applies it)');
  if (options.expect && next.checksum !== options.expect) throw new DeblayerError(`the next deployment is ${short(next.checksum)}, not the ${short(options.expect)} just deployed: not applied live`);
  const addedPackages = checkAdditions(booted, next);
  const from = booted.liveCommit ?? booted.checksum;
  const frame = { sysroot: '/', stateroot: booted.stateroot, repoPath: '/ostree/repo', command: 'apply-live', argv: options.argv };
  const nothing: ApplyLiveResult = {
    booted: booted.checksum,
    target: next.checksum,
    unchanged: true,
    addedPackages,
    files: { added: 0, changed: 0, removed: 0 },
    etc: { added: [], updated: [], removed: [], kept: [] },
    enabledUnits: [],
    warnings: [],
  };
  if (from === next.checksum) return nothing;
  return recordedTransaction(frame, async () => {
    const sysroot = new OstreeSysroot('/');
    const diff = await sysroot.repo.diff(from, next.checksum);
    const changes = liveTreeChanges(diff);
    if (changes.outside.length > 0) throw refuse(booted, next, `it changes paths outside /usr (${changes.outside.slice(0, 3).join(', ')})`);
    if (!booted.unlocked) {
      options.onStep?.('Unlocking /usr: a transient overlay until the next boot (ostree admin unlock --transient)');
      await sysroot.unlock('transient');
    }
    options.onStep?.(`Applying ${short(next.checksum)}: ${changes.counts.added} added, ${changes.counts.changed} changed, ${changes.counts.removed} removed under /usr`);
    const ns = await MountNamespace.open();
    let etc: EtcMerge;
    try {
      await remountWritable(ns, '/usr');
      etc = await mergeEtc(ns, '/', next.path, changes);
      recordLiveEtc(booted, etc);
      await applyUsr(ns, '/', next.path, changes);
    } finally {
      await ns.close();
    }
    // The files are live from here on: what systemd makes of them below is what the next boot would make, and a failure there is told, not undone.
    recordLiveCommit(booted, next.checksum);
    const written = diff.filter((c) => c.change !== 'D').map((c) => c.path);
    options.onStep?.('Creating accounts and runtime directories, reloading units');
    const warnings: string[] = [];
    const attempt = (step: Promise<void>) => step.catch((err: unknown) => void warnings.push(err instanceof Error ? err.message : String(err)));
    await attempt(createAccounts(written.filter((p) => SYSUSERS_FILE.test(p))));
    await attempt(createTmpfiles(written.filter((p) => /^\/usr\/lib\/tmpfiles\.d\/[^/]+\.conf$/.test(p))));
    await attempt(daemonReload());
    return { ...nothing, unchanged: false, files: changes.counts, etc, enabledUnits: enabledUnits(changes), warnings };
  }, (r) => (r.unchanged ? 'unchanged' : 'ok'));
}
