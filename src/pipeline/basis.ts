// What a transaction builds on. A state is derived from the base (every
// layered package composed and configured again, as on a fresh install), or,
// when the base is unchanged and the current state can be trusted, built on
// the current state's commit the way dpkg changes a mutable system: install
// unpacks and configures only the packages it adds, uninstall purges only the
// packages it drops. Either way the commit's parent is the base, and its
// metadata lists the whole layered set.

import { planChanges, type Plan } from '../apt/plan.js';
import type { CurrentState } from '../apt/current-state.js';
import type { BaseContents } from '../base/select.js';
import type { Origin } from '../deploy/origin.js';
import type { StatusEntry } from '../base/dpkg-status.js';
import { formatStatePackages } from '../vocabulary/packages.js';

/** Commit metadata: the way of layering a state was made with; states without it (older deblayer) are derived again. */
export const LAYERING_KEY = 'deblayer.layering';
export const LAYERING_VERSION = '2';
/** Commit metadata: 'derived' or 'incremental'. */
export const MADE_KEY = 'deblayer.made';

export type Made = 'derived' | 'incremental';

/** Commit metadata: the base packages a state goes without (override remove), NAME=VERSION. */
export const REMOVED_KEY = 'deblayer.removed';
/** Commit metadata: the base packages a state has another version of (override replace), NAME=VERSION of the base's. */
export const REPLACED_KEY = 'deblayer.replaced';

const asStatePackages = (entries: StatusEntry[] = []) => formatStatePackages(entries.map((p) => ({ name: p.package, version: p.version })));

export function removedValue(contents: BaseContents): string {
  return asStatePackages(contents.removed);
}

export function replacedValue(contents: BaseContents): string {
  return asStatePackages(contents.replaced);
}

/** Why a transaction cannot build on the current state, or undefined when it can. */
export function untrustedBecause(state: CurrentState | undefined, contents: BaseContents, origin: Origin, skipScripts: string[]): string | undefined {
  if (!state) return 'nothing is layered yet';
  const m = state.metadata;
  if (m['deblayer.base'] !== contents.base.commit) return 'the base changed';
  if (m[LAYERING_KEY] !== LAYERING_VERSION) return 'the current state was made by an older deblayer';
  if ((origin.skipScripts ?? []).length > 0 || skipScripts.length > 0) return 'a layered package skips its maintainer scripts';
  if ((m[REMOVED_KEY] ?? '') !== removedValue(contents)) return 'the base packages it goes without changed';
  if ((m[REPLACED_KEY] ?? '') !== replacedValue(contents)) return 'the base packages it replaces changed';
  return undefined;
}

/**
 * Whether a plan (told against the current state) can be made incrementally:
 * an install that only adds packages, or an uninstall that only drops some
 * and leaves at least one (an empty set is the base commit itself). A plan
 * that changes no package but the requests (a layered dependency requested,
 * or a request dropped that another package still needs: apt-mark's manual
 * and auto) is an install of nothing on the current state.
 */
export function incrementalKind(kind: string, plan: Plan): 'install' | 'uninstall' | undefined {
  const c = planChanges(plan);
  const moved = c.upgraded.length + c.downgraded.length;
  if ((kind === 'install' || kind === 'uninstall') && c.added.length + moved + c.removed.length === 0 && plan.packages.length > 0) return 'install';
  if (kind === 'install' && c.added.length > 0 && moved + c.removed.length === 0) return 'install';
  if (kind === 'uninstall' && c.removed.length > 0 && moved + c.added.length === 0 && plan.packages.length > 0) return 'uninstall';
  return undefined;
}
