// What a transaction builds on. A state is derived from the base (every
// layered package composed and configured again, as on a fresh install), or,
// when the base is unchanged and the current state can be trusted, built on
// the current state's commit the way dpkg changes a mutable system: install
// unpacks and configures only the packages it adds, uninstall purges only the
// packages it drops. Either way the commit's parent is the base, and its
// metadata lists the whole layered set.

import type { Plan, PlannedPackage } from '../apt/plan.js';
import type { BaseContents } from '../base/select.js';
import type { Origin } from '../deploy/origin.js';
import type { CommitInfo } from '../exec/ostree.js';
import { parseStatePackages } from '../vocabulary/packages.js';

/** Commit metadata: the way of layering a state was made with; states without it (older deblayer) are derived again. */
export const LAYERING_KEY = 'deblayer.layering';
export const LAYERING_VERSION = '2';
/** Commit metadata: 'derived' or 'incremental'. */
export const MADE_KEY = 'deblayer.made';

export type Made = 'derived' | 'incremental';

/** The current state, as a transaction builds on it. */
export interface StateBasis {
  commit: string;
  /** Its dpkg status (base and layered packages, all configured). */
  statusText: string;
  /** Its layered packages, as its metadata lists them. */
  packages: { name: string; version: string }[];
}

/** What a plan changes in the current state's layered set. */
export interface PackageDelta {
  added: PlannedPackage[];
  removed: { name: string; version: string }[];
}

export function packageDelta(current: { name: string; version: string }[], plan: Plan): PackageDelta {
  const now = new Set(current.map((p) => `${p.name}=${p.version}`));
  const next = new Set(plan.packages.map((p) => `${p.name}=${p.version}`));
  return {
    added: plan.packages.filter((p) => !now.has(`${p.name}=${p.version}`)),
    removed: current.filter((p) => !next.has(`${p.name}=${p.version}`)),
  };
}

/** Why a transaction cannot build on the current state, or undefined when it can. */
export function untrustedBecause(info: CommitInfo, contents: BaseContents, origin: Origin, skipScripts: string[]): string | undefined {
  const m = info.metadata;
  if (m['deblayer.base'] === undefined) return 'nothing is layered yet';
  if (m['deblayer.base'] !== contents.base.commit) return 'the base changed';
  if (m[LAYERING_KEY] !== LAYERING_VERSION) return 'the current state was made by an older deblayer';
  if ((origin.skipScripts ?? []).length > 0 || skipScripts.length > 0) return 'a layered package skips its maintainer scripts';
  return undefined;
}

/** The current state as a basis, reading its dpkg status from its commit. */
export async function readStateBasis(contents: BaseContents, commit: string, info: CommitInfo): Promise<StateBasis> {
  const { repo, cache } = contents.base;
  // The cache entry the resolution against the current state (apt/current-state.ts) filled.
  const statusText = await cache.text(commit, 'dpkg-status', async () => (await repo.cat(commit, `${contents.database.path}/status`))?.toString('utf8') ?? '');
  return { commit, statusText, packages: parseStatePackages(info.metadata['deblayer.packages']) };
}

/**
 * Whether a delta can be made incrementally: an install that only adds
 * packages, or an uninstall that only drops some and leaves at least one (an
 * empty set is the base commit itself).
 */
export function incrementalKind(kind: string, delta: PackageDelta, remaining: number): 'install' | 'uninstall' | undefined {
  if (kind === 'install' && delta.added.length > 0 && delta.removed.length === 0) return 'install';
  if (kind === 'uninstall' && delta.added.length === 0 && delta.removed.length > 0 && remaining > 0) return 'uninstall';
  return undefined;
}
