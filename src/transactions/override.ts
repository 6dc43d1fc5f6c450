// override remove and override reset: the base packages a deployment goes
// without, as rpm-ostree's overrides. The list is the origin's
// ([overrides] remove=); a removal is checked as apt checks `apt-get remove`
// (src/apt/base-removal.ts), purged from the current state when nothing else
// changes, and reapplied to every state derived later (upgrade, rebase),
// until `override reset` brings the package back from the base.

import { emptyPlan } from '../apt/plan.js';
import { readBaseContents, selectBase, type Base } from '../base/select.js';
import { checkBaseRemoval } from '../apt/base-removal.js';
import { withoutPackages } from '../base/dpkg-status.js';
import { readDeploymentOrigin } from '../deploy/origin-file.js';
import { DeblayerError, requireRoot, UsageError } from '../errors.js';
import { OstreeSysroot } from '../exec/ostree.js';
import { localIdName } from '../vocabulary/packages.js';
import { layer, openLayerBase, type InstallResult, type LayerOptions } from './layer.js';
import { recordedTransaction, type Recording } from './recorded.js';

export type OverrideChange = { remove: string[] } | { reset: string[] } | { resetAll: true };

export interface OverrideResult extends InstallResult {
  /** Base packages the change removes, and those it brings back, NAME VERSION. */
  removing: { name: string; version: string }[];
  restoring: { name: string; version: string }[];
  /** Asked to remove what is removed already (or to reset with nothing removed): nothing was changed. */
  unchanged?: { already: string[] };
}

export interface OverrideOptions extends LayerOptions {
  /** Told what goes and what comes back, before the plan and any change. */
  onOverride?: (removing: OverrideResult['removing'], restoring: OverrideResult['restoring']) => void;
}

export async function override(options: OverrideOptions, change: OverrideChange): Promise<OverrideResult> {
  const command = options.command ?? ('remove' in change ? 'override remove' : 'override reset');
  const deploying = options.mode === 'deploy';
  if (deploying) requireRoot(`deblayer ${command}`);
  if (options.selector.base !== undefined) throw new UsageError(`${command} changes a sysroot deployment, not a --base`);
  const selected = await selectBase(options.selector);
  const deployment = selected.deployment!;
  if (!deploying) return overrideOn(options, change, selected, undefined);
  // Recorded from the start: a refused removal is in the history too, as a failed install is.
  return recordedTransaction(
    { sysroot: options.selector.sysroot, stateroot: deployment.stateroot, repoPath: selected.repo.path, command, argv: options.argv ?? [] },
    (recording) => overrideOn(options, change, selected, recording),
    (result) => (result.deployed ? 'ok' : 'unchanged'),
  );
}

async function overrideOn(options: OverrideOptions, change: OverrideChange, selected: Base, recording: Recording | undefined): Promise<OverrideResult> {
  const deployment = selected.deployment!;
  const origin = readDeploymentOrigin(new OstreeSysroot(options.selector.sysroot), deployment);
  const now = origin?.overrideRemove ?? [];
  const { next, added, reset } = nextRemovals(now, change);
  const layered = [...(origin?.requested ?? []), ...(origin?.requestedLocal ?? []).map(localIdName)];
  const notBase = added.filter((n) => layered.includes(n));
  if (notBase.length > 0) throw new UsageError(`${notBase.join(', ')}: layered, not in the base (deblayer uninstall ${notBase.join(' ')})`);
  if (added.length === 0 && reset.length === 0) {
    return { plan: emptyPlan(selected.label, selected.commit), removing: [], restoring: [], unchanged: { already: 'remove' in change ? change.remove : [] } };
  }
  const { contents, env, state } = await openLayerBase({ ...options, removeBase: next }, options.selector, recording !== undefined, true);
  const removing = (contents.removed ?? []).filter((p) => added.includes(p.package));
  const full = await readBaseContents(contents.base);
  if (removing.length > 0) {
    // The deployment as it is: the base without what it went without already, and the layered packages.
    await checkBaseRemoval(env, {
      names: added,
      entries: removing,
      statusText: `${withoutPackages(full.statusText, new Set(now)).replace(/\n*$/, '\n\n')}${(state?.paragraphs ?? []).map((p) => `${p}\n\n`).join('')}`,
      layered: new Set(state?.packages.map((p) => p.package) ?? []),
    });
  }
  const restoring = full.packages.filter((p) => reset.includes(p.package)).map((p) => ({ name: p.package, version: p.version }));
  const described = { removing: removing.map((p) => ({ name: p.package, version: p.version })), restoring };
  options.onOverride?.(described.removing, described.restoring);
  const overrideChange = { kind: 'override', remove: added, reset } as const;
  const withState = state ? { state } : {};
  const target = recording
    ? ({ mode: 'deploy', contents, env, deployment, recording, ...withState } as const)
    : ({ mode: 'dry-run', contents, env, deployment, ...withState } as const);
  return { ...(await layer(options, overrideChange, target)), ...described };
}

/** The removals after CHANGE, and what it adds to and takes from NOW. */
function nextRemovals(now: string[], change: OverrideChange): { next: string[]; added: string[]; reset: string[] } {
  if ('remove' in change) {
    const added = [...new Set(change.remove)].filter((n) => !now.includes(n));
    return { next: [...now, ...added], added, reset: [] };
  }
  const reset = 'resetAll' in change ? now : [...new Set(change.reset)];
  const unknown = reset.filter((n) => !now.includes(n));
  if (unknown.length > 0) {
    throw new DeblayerError(`${unknown.join(', ')}: not removed from the base of this deployment (deblayer status lists its RemovedBasePackages${now.length > 0 ? `: ${now.join(', ')}` : ', and it has none'})`);
  }
  return { next: now.filter((n) => !reset.includes(n)), added: [], reset };
}
