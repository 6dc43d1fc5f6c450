// Brings a running root's /usr and /etc to a target deployment's, for the
// changes of tree-changes.ts. /usr is written through a mount namespace in
// which it is writable (the host sees it read-only); /etc takes a new default
// only where the admin has not changed the file, judged against the /usr/etc
// that is live now, which is the 3-way merge libostree does at the next boot.
// Every step can be run again: a copy replaces, an addition that is there
// already with the target's content counts as done.

import { readFileSync, readlinkSync, rmSync, rmdirSync, type Stats } from 'node:fs';
import { basename, dirname } from 'node:path';
import { copyReplacing } from '../exec/cp.js';
import type { MountNamespace } from '../exec/namespace.js';
import { lstatIfPresent } from '../read-text.js';
import { under, type LiveTreeChanges } from './tree-changes.js';

export interface EtcMerge {
  /** New defaults copied into /etc. */
  added: string[];
  /** Files whose default changed, and that the admin had not: replaced by the target's. */
  updated: string[];
  /** Defaults the target no longer has, removed where unchanged. */
  removed: string[];
  /** Paths left as the admin has them (changed locally, or there already): the next boot keeps them too. */
  kept: string[];
}

/** Same type and content (a symlink's target; a directory is the same as any directory). */
function sameEntry(a: string, b: string): boolean {
  const sa = lstatIfPresent(a);
  const sb = lstatIfPresent(b);
  if (!sa || !sb || kind(sa) !== kind(sb)) return false;
  if (sa.isSymbolicLink()) return readlinkSync(a) === readlinkSync(b);
  if (sa.isFile()) return sa.size === sb.size && readFileSync(a).equals(readFileSync(b));
  return sa.isDirectory();
}

function kind(s: Stats): string {
  return s.isFile() ? 'f' : s.isDirectory() ? 'd' : s.isSymbolicLink() ? 'l' : 'o';
}

/**
 * Merges /etc before /usr is touched: the live /usr/etc is the default the
 * admin's files are compared with. ROOT is the running root as NS sees it
 * (`/` on a host), TARGET the target deployment's checkout.
 */
export async function mergeEtc(ns: MountNamespace, root: string, target: string, changes: LiveTreeChanges): Promise<EtcMerge> {
  const merge: EtcMerge = { added: [], updated: [], removed: [], kept: [] };
  const prefix = root.replace(/\/+$/, '');
  const at = (path: string) => ns.path(`${prefix}${path}`);
  const copied = new Set<string>();
  const copies = new Map<string, string[]>();
  for (const c of changes.etc) {
    if (c.change === 'D') continue;
    if (under(c.path, copied)) continue;
    const mine = at(c.path);
    const theirs = `${target}/usr${c.path}`;
    if (c.change === 'A') {
      if (lstatIfPresent(mine)) {
        if (!sameEntry(mine, theirs)) merge.kept.push(c.path);
        continue;
      }
      copied.add(c.path);
      merge.added.push(c.path);
    } else {
      if (sameEntry(mine, theirs) || lstatIfPresent(theirs)?.isDirectory()) continue;
      if (!sameEntry(mine, at(`/usr${c.path}`))) {
        merge.kept.push(c.path);
        continue;
      }
      merge.updated.push(c.path);
    }
    const dir = `${prefix}${dirname(c.path)}`;
    copies.set(dir, [...(copies.get(dir) ?? []), theirs]);
  }
  for (const [dir, sources] of copies) await copyReplacing(sources, dir, ns);
  // Deepest first: a removed directory goes once what it held has gone, and only if nothing is left.
  for (const c of [...changes.etc].reverse()) {
    if (c.change !== 'D') continue;
    const mine = at(c.path);
    const stat = lstatIfPresent(mine);
    if (!stat) continue;
    if (stat.isDirectory()) {
      try {
        rmdirSync(mine);
        merge.removed.push(c.path);
      } catch {
        merge.kept.push(c.path);
      }
    } else if (sameEntry(mine, at(`/usr${c.path}`))) {
      rmSync(mine);
      merge.removed.push(c.path);
    } else {
      merge.kept.push(c.path);
    }
  }
  return merge;
}

/** Brings ROOT's /usr (writable in NS) to TARGET's for these changes. */
export async function applyUsr(ns: MountNamespace, root: string, target: string, changes: LiveTreeChanges): Promise<void> {
  const prefix = root.replace(/\/+$/, '');
  for (const [dir, paths] of changes.copies) {
    // A changed directory's own entry: what changed in it is listed apart.
    const sources = paths.filter((p) => !(lstatIfPresent(ns.path(`${prefix}${p}`))?.isDirectory() && lstatIfPresent(`${target}${p}`)?.isDirectory()));
    if (sources.length > 0) await copyReplacing(sources.map((p) => `${target}${p}`), `${prefix}${dir}`, ns);
  }
  for (const path of changes.removals) rmSync(ns.path(`${prefix}${path}`), { recursive: true, force: true });
}

/** Units that the change enables (their wants/requires links added to /etc), not started by apply-live. */
export function enabledUnits(changes: LiveTreeChanges): string[] {
  const units = changes.etc
    .filter((c) => c.change === 'A' && /^\/etc\/systemd\/system\/[^/]+\.(wants|requires)\/[^/]+$/.test(c.path))
    .map((c) => basename(c.path));
  return [...new Set(units)].sort();
}

/**
 * Takes back what apply-live did to the /etc of the deployment at DEPLOYMENT
 * (as NS sees it, writable there): added paths go, replaced ones get the
 * deployment's own default again (or go, when it has none).
 */
export async function undoEtc(ns: MountNamespace, deployment: string, record: { added: string[]; replaced: string[] }): Promise<number> {
  let undone = 0;
  for (const path of record.added) {
    if (!lstatIfPresent(ns.path(`${deployment}${path}`))) continue;
    rmSync(ns.path(`${deployment}${path}`), { recursive: true, force: true });
    undone += 1;
  }
  for (const path of record.replaced) {
    const own = `${deployment}/usr${path}`;
    if (lstatIfPresent(ns.path(own))) await copyReplacing([own], `${deployment}${dirname(path)}`, ns);
    else rmSync(ns.path(`${deployment}${path}`), { recursive: true, force: true });
    undone += 1;
  }
  return undone;
}
