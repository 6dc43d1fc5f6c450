// override remove, replace and reset: the base packages a deployment leaves
// out, as rpm-ostree's overrides. The lists are the origin's ([overrides]
// remove=, replace=, replace-local=). A removal is checked as apt checks
// `apt-get remove` (src/apt/base-removal.ts) and purged from the current
// state when nothing else changes; a replacement is the base's package purged
// and the other version layered in its place, planned by apt against the
// deployment as it is. Both are reapplied to every state derived later
// (upgrade, rebase), until `override reset` brings the base's package back,
// or a new base makes them pointless.

import { emptyPlan } from '../apt/plan.js';
import { readBaseContents, selectBase, type Base } from '../base/select.js';
import { checkBaseRemoval } from '../apt/base-removal.js';
import { readLocalDeb } from '../apt/resolve.js';
import { stateWithout } from '../apt/current-state.js';
import { withoutPackages } from '../base/dpkg-status.js';
import { readDeploymentOrigin } from '../deploy/origin-file.js';
import { DeblayerError, requireRoot, UsageError } from '../errors.js';
import { OstreeSysroot } from '../exec/ostree.js';
import { localIdName, specName, specVersion } from '../vocabulary/packages.js';
import { originOverrides, type BaseOverrides } from '../deploy/origin.js';
import { layer, openLayerBase, type InstallResult, type LayerOptions } from './layer.js';
import { recordedTransaction, type Recording } from './recorded.js';

export type OverrideChange =
  | { remove: string[] }
  /** NAME=VERSION specs of the sources, and local .deb files. */
  | { replace: string[]; localFiles: string[] }
  | { reset: string[] }
  | { resetAll: true };

export interface OverrideResult extends InstallResult {
  /** Base packages the change removes, replaces (old -> new) and brings back. */
  removing: { name: string; version: string }[];
  replacing: { name: string; version: string; by: string }[];
  restoring: { name: string; version: string }[];
  /** Asked to remove what is removed already (or to reset with nothing left out): nothing was changed. */
  unchanged?: { already: string[] };
}

export interface OverrideOptions extends LayerOptions {
  /** Told what goes, what is replaced and what comes back, before the plan and any change. */
  onOverride?: (change: Pick<OverrideResult, 'removing' | 'replacing' | 'restoring'>) => void;
}

function commandOf(change: OverrideChange): string {
  return 'remove' in change ? 'override remove' : 'replace' in change ? 'override replace' : 'override reset';
}

export async function override(options: OverrideOptions, change: OverrideChange): Promise<OverrideResult> {
  const command = options.command ?? commandOf(change);
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

/** A new replacement: from a spec, or a local file read for its name and version. */
interface Replacement {
  name: string;
  version: string;
  spec?: string;
  file?: string;
}

async function replacementsOf(change: OverrideChange): Promise<Replacement[]> {
  if (!('replace' in change)) return [];
  const out: Replacement[] = [];
  for (const spec of change.replace) {
    const version = specVersion(spec);
    if (version === undefined || spec.includes(':')) throw new UsageError(`'${spec}': override replace takes NAME=VERSION, or a path to a .deb file`);
    out.push({ name: specName(spec), version, spec });
  }
  for (const file of change.localFiles) {
    const deb = await readLocalDeb(file);
    out.push({ name: deb.name, version: deb.version, file: deb.path });
  }
  return out;
}

async function overrideOn(options: OverrideOptions, change: OverrideChange, selected: Base, recording: Recording | undefined): Promise<OverrideResult> {
  const deployment = selected.deployment!;
  const origin = readDeploymentOrigin(new OstreeSysroot(options.selector.sysroot), deployment);
  const now = originOverrides(origin);
  const replacements = await replacementsOf(change);
  const { next, added, reset } = nextOverrides(now, change, replacements);
  const layered = [...(origin?.requested ?? []), ...(origin?.requestedLocal ?? []).map(localIdName)];
  const notBase = [...added, ...replacements.map((r) => r.name)].filter((n) => layered.includes(n));
  if (notBase.length > 0) throw new UsageError(`${notBase.join(', ')}: layered, not in the base (deblayer uninstall, or install NAME=VERSION, changes it)`);
  if (added.length === 0 && reset.length === 0 && replacements.length === 0) {
    return { plan: emptyPlan(selected.label, selected.commit), removing: [], replacing: [], restoring: [], unchanged: { already: 'remove' in change ? change.remove : [] } };
  }
  const opened = await openLayerBase({ ...options, overrides: next }, options.selector, recording !== undefined, true);
  const { contents, env } = opened;
  // A replacement being reset, or replaced again, leaves the state: apt plans against the base's package.
  const leaving = now.replace.map((r) => r.name).filter((n) => reset.includes(n) || replacements.some((r) => r.name === n));
  const state = opened.state && stateWithout(opened.state, leaving);
  const full = await readBaseContents(contents.base);
  const baseVersion = (name: string) => full.packages.find((p) => p.package === name)?.version ?? '';
  const removing = (contents.removed ?? []).filter((p) => added.includes(p.package));
  if (removing.length > 0) {
    // The deployment as it is: the base without what it leaves out already, and the layered packages.
    await checkBaseRemoval(env, {
      names: added,
      entries: removing,
      statusText: `${withoutPackages(full.statusText, new Set([...now.remove, ...now.replace.map((r) => r.name)])).replace(/\n*$/, '\n\n')}${(state?.paragraphs ?? []).map((p) => `${p}\n\n`).join('')}`,
      layered: new Set(state?.packages.map((p) => p.package) ?? []),
    });
  }
  for (const r of replacements) {
    if (r.version === baseVersion(r.name)) throw new DeblayerError(`${r.name} ${r.version} is the base's own version: there is nothing to replace`);
  }
  const described = {
    removing: removing.map((p) => ({ name: p.package, version: p.version })),
    replacing: replacements.map((r) => ({ name: r.name, version: baseVersion(r.name), by: r.version })),
    restoring: reset.filter((n) => !replacements.some((r) => r.name === n)).map((name) => ({ name, version: baseVersion(name) })),
  };
  options.onOverride?.(described);
  const overrideChange = {
    kind: 'override',
    remove: added,
    replace: replacements.flatMap((r) => (r.spec ? [r.spec] : [])),
    replaceLocal: replacements.flatMap((r) => (r.file ? [r.file] : [])),
    reset,
  } as const;
  const withState = state ? { state } : {};
  const target = recording
    ? ({ mode: 'deploy', contents, env, deployment, recording, ...withState } as const)
    : ({ mode: 'dry-run', contents, env, deployment, ...withState } as const);
  return { ...(await layer(options, overrideChange, target)), ...described };
}

/** The overrides after CHANGE, the removals it adds and what it resets. */
function nextOverrides(now: BaseOverrides, change: OverrideChange, replacements: Replacement[]): { next: BaseOverrides; added: string[]; reset: string[] } {
  const leftOut = [...now.remove, ...now.replace.map((r) => r.name)];
  if ('remove' in change) {
    const added = [...new Set(change.remove)].filter((n) => !now.remove.includes(n));
    const replaced = added.filter((n) => now.replace.some((r) => r.name === n));
    if (replaced.length > 0) throw new UsageError(`${replaced.join(', ')}: replaced (override replace); deblayer override reset ${replaced.join(' ')} first`);
    return { next: { ...now, remove: [...now.remove, ...added] }, added, reset: [] };
  }
  if ('replace' in change) {
    const names = replacements.map((r) => r.name);
    const twice = names.filter((n, i) => names.indexOf(n) !== i);
    if (twice.length > 0) throw new UsageError(`${twice.join(', ')}: named twice`);
    // Replacing a removed package brings it back at the other version.
    const remove = now.remove.filter((n) => !names.includes(n));
    const replace = [...now.replace.filter((r) => !names.includes(r.name)), ...replacements.map((r) => ({ name: r.name, version: r.version }))];
    return { next: { remove, replace }, added: [], reset: now.remove.filter((n) => names.includes(n)) };
  }
  const reset = 'resetAll' in change ? leftOut : [...new Set(change.reset)];
  const unknown = reset.filter((n) => !leftOut.includes(n));
  if (unknown.length > 0) {
    throw new DeblayerError(
      `${unknown.join(', ')}: not removed or replaced in the base of this deployment (deblayer status lists its overrides${leftOut.length > 0 ? `: ${leftOut.join(', ')}` : ', and it has none'})`,
    );
  }
  return { next: { remove: now.remove.filter((n) => !reset.includes(n)), replace: now.replace.filter((r) => !reset.includes(r.name)) }, added: [], reset };
}
