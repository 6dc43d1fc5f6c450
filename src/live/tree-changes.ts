// The file changes between the commit that is live and the one to make live
// (`ostree diff`), sorted into what apply-live does with each: /usr is
// brought to the target's, /etc gets the target's new defaults where the
// admin has not changed the file, as libostree's merge would at the next
// boot. ostree lists an added or removed directory and then everything in it.

import { dirname } from 'node:path';

export interface TreeChange {
  change: 'A' | 'D' | 'M';
  path: string;
}

export interface LiveTreeChanges {
  /** Added (top-most) and changed paths under /usr, by the directory they go into. */
  copies: Map<string, string[]>;
  /** Removed paths under /usr (top-most), removed with what they hold. */
  removals: string[];
  /** Changes of /usr/etc, as /etc paths, in ostree's order (a directory before what it holds). */
  etc: TreeChange[];
  /** Changes outside /usr: a deblayer commit has none, and apply-live refuses them. */
  outside: string[];
  counts: { added: number; changed: number; removed: number };
}

/** Whether PATH is inside one of DIRS (not one of them itself). */
export function under(path: string, dirs: Set<string>): boolean {
  for (let d = dirname(path); d !== '/' && d !== '.'; d = dirname(d)) if (dirs.has(d)) return true;
  return false;
}

export function liveTreeChanges(diff: TreeChange[]): LiveTreeChanges {
  const out: LiveTreeChanges = { copies: new Map(), removals: [], etc: [], outside: [], counts: { added: 0, changed: 0, removed: 0 } };
  const added = new Set<string>();
  const removed = new Set<string>();
  for (const c of diff) {
    if (c.path === '/usr/etc' || c.path.startsWith('/usr/etc/')) {
      out.etc.push({ change: c.change, path: c.path.slice('/usr'.length) });
    } else if (!c.path.startsWith('/usr/')) {
      out.outside.push(c.path);
      continue;
    }
    out.counts[c.change === 'A' ? 'added' : c.change === 'M' ? 'changed' : 'removed'] += 1;
    if (c.change === 'D') {
      removed.add(c.path);
      if (!under(c.path, removed)) out.removals.push(c.path);
      continue;
    }
    if (c.change === 'A') added.add(c.path);
    if (under(c.path, added)) continue;
    const dir = dirname(c.path);
    out.copies.set(dir, [...(out.copies.get(dir) ?? []), c.path]);
  }
  return out;
}
