// The request stage: what the user asked for, set against what the deployment
// layers already. The request holds the whole layered set with the change;
// install and uninstall ask apt only for the change, against the layered
// state (src/apt/resolve-state.ts), and the others resolve the whole set from
// the base.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Request } from '../apt/resolve.js';
import { originOverrides, type Origin } from '../deploy/origin.js';
import { DeblayerError } from '../errors.js';
import { localIdName, specName, specVersion } from '../vocabulary/packages.js';

/** What a transaction changes in the layered set. */
export type Change =
  /** install: names (NAME, NAME=VERSION, NAME:ARCH) and local .deb files to add. */
  | { kind: 'install'; install: string[]; localFiles: string[]; allowInactive?: boolean }
  /** uninstall: names to drop; with `idempotent`, names not layered are ignored. */
  | { kind: 'uninstall'; drop: string[]; idempotent?: boolean }
  /**
   * upgrade and rebase: the same requests, composed again on another base;
   * rebase gives the refspec the new deployment's origin follows from then on.
   */
  | { kind: 'recompose'; baseRefspec?: string }
  /** apply: the layered set made equal to these (a manifest's Packages), installs and removals at once. */
  | { kind: 'set'; packages: string[]; localFiles: string[] }
  /**
   * override remove, replace and reset: the base packages the deployment
   * leaves out change (REMOVE newly removed; REPLACE, NAME=VERSION specs, and
   * REPLACELOCAL, .deb files, newly replaced; RESET back from the base); the
   * layered set stays as it is.
   */
  | { kind: 'override'; remove: string[]; replace: string[]; replaceLocal: string[]; reset: string[] };

export type Reconciled =
  | { kind: 'change'; request: Request; requests?: RequestChange }
  /** Nothing to change: `current` is the layered set as it is, for the plan shown. */
  | { kind: 'unchanged'; current: Request; alreadyLayered?: string[]; notLayered?: string[] };

/** apply: the requested names it adds and drops. */
export interface RequestChange {
  added: string[];
  removed: string[];
}

/**
 * The .deb files of the local packages ORIGIN layers (and of its local
 * replacements of base packages) that the change keeps, from LOCALDIR where
 * imports left them.
 */
function keptLocalFiles(origin: Origin, drop: string[], localDir: string): string[] {
  return [...origin.requestedLocal, ...(origin.overrideReplaceLocal ?? [])]
    .filter((id) => !drop.includes(localIdName(id)))
    .map((id) => {
      const file = join(localDir, `${id}.deb`);
      if (!existsSync(file)) {
        throw new DeblayerError(`the layered local package ${id} is no longer in ${localDir}: install its .deb file again`);
      }
      return file;
    });
}

/** What is layered already is "unchanged", in a dry run as in a deploy: a dry run says what the real run does. */
export function reconcile(origin: Origin, change: Change, localDir: string, layeredVersions: ReadonlyMap<string, string> = new Map()): Reconciled {
  // A replacement of a base package (override replace) is layered at its version, in every transaction, until reset.
  const reset = change.kind === 'override' ? [...change.reset, ...change.replace.map(specName)] : [];
  const kept = originOverrides(origin).replace.filter((r) => !reset.includes(r.name));
  const replacements = kept.filter((r) => !r.local).map((r) => `${r.name}=${r.version}`);
  const layered = [...origin.requested, ...replacements];
  const drop = change.kind === 'uninstall' ? change.drop : change.kind === 'override' ? reset : [];
  const keptLocal = keptLocalFiles(origin, drop, localDir);
  const current: Request = { install: [], localFiles: keptLocal, layered };
  const replacedNames = kept.map((r) => r.name);
  if (change.kind === 'install' || change.kind === 'uninstall') {
    const named = (change.kind === 'install' ? change.install.map(specName) : change.drop).filter((n) => replacedNames.includes(n));
    if (named.length > 0) throw new DeblayerError(`${named.join(', ')}: a replacement of a base package (override replace): deblayer override reset ${named.join(' ')} brings the base's back`);
  }
  if (change.kind === 'install') {
    const names = change.install.map(specName);
    // NAME=VERSION of a layered package moves it to that version (LAYEREDVERSIONS: what is layered now), as apt-get install does.
    const asked = (s: string) => {
      const version = specVersion(s);
      return !layered.includes(specName(s)) || (version !== undefined && version !== layeredVersions.get(specName(s)));
    };
    if (change.localFiles.length === 0 && !change.install.some(asked)) {
      return { kind: 'unchanged', current, alreadyLayered: names };
    }
    return {
      kind: 'change',
      request: {
        install: change.install.filter(asked),
        localFiles: [...keptLocal, ...change.localFiles],
        layered,
        drop: [],
        ...(change.allowInactive ? { allowInactive: true } : {}),
      },
    };
  }
  if (change.kind === 'set') return reconcileSet(origin, change, current);
  if (change.kind === 'recompose') return { kind: 'change', request: { ...current, drop: [] } };
  if (change.kind === 'override') {
    return { kind: 'change', request: { install: change.replace, localFiles: [...keptLocal, ...change.replaceLocal], layered, drop: [] } };
  }
  const localNames = origin.requestedLocal.map(localIdName);
  const notLayered = change.idempotent ? drop.filter((n) => !layered.includes(n) && !localNames.includes(n)) : [];
  const dropped = drop.filter((n) => !notLayered.includes(n));
  if (dropped.length === 0 && notLayered.length > 0) return { kind: 'unchanged', current, notLayered };
  return {
    kind: 'change',
    request: { install: [], localFiles: keptLocal, layered: [...layered, ...localNames.filter((n) => dropped.includes(n))], drop: dropped },
  };
}

/**
 * apply: the whole set resolved again from the base, as any transaction is;
 * unchanged only when the names asked for are the layered ones, without pins
 * or local files to bring in.
 */
function reconcileSet(origin: Origin, change: Extract<Change, { kind: 'set' }>, current: Request): Reconciled {
  const wanted = change.packages.map(specName);
  const had = [...origin.requested, ...origin.requestedLocal.map(localIdName)];
  const requests = { added: wanted.filter((n) => !had.includes(n)), removed: had.filter((n) => !wanted.includes(n)) };
  const same = requests.added.length + requests.removed.length === 0 && change.localFiles.length === 0 && origin.requestedLocal.length === 0;
  if (same && change.packages.every((p) => p === specName(p))) return { kind: 'unchanged', current, alreadyLayered: wanted };
  return { kind: 'change', request: { install: change.packages, localFiles: change.localFiles, layered: [], drop: [] }, requests };
}
