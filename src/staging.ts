// Staging directories: work trees in the repository's tmp/ (same file system
// as its objects, so a commit can hardlink from them). Each is made here with
// one prefix and its maker's pid, so that the next transaction can remove what
// a killed one left without a list of names to keep in step
// (src/transactions/leftovers.ts), and without touching the work of a
// deblayer still running on the same repository (another stateroot's
// transaction, a compose or base import).

import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { processRuns } from './processes.js';

const PREFIX = 'deblayer-';

/**
 * A new staging directory for PURPOSE (import, pkg, db, ...) in REPO's tmp/.
 * Mode 0755, not mkdtemp's 0700: a staging directory committed as a tree
 * gives the commit's root directory its mode, and a layered commit whose last
 * tree is one (the dpkg database, when no maintainer script runs) made / 0700
 * on the booted host, where services under their own users then failed.
 */
export function stagingDir(repoPath: string, purpose: string): string {
  mkdirSync(join(repoPath, 'tmp'), { recursive: true });
  const dir = mkdtempSync(join(repoPath, 'tmp', `${PREFIX}${purpose}-${process.pid}-`));
  chmodSync(dir, 0o755);
  return dir;
}

/** Whether the process that made staging directory NAME still runs (names without a pid are older deblayer's: not). */
function makerRuns(name: string): boolean {
  const pid = Number(/-(\d+)-[^-]+$/.exec(name)?.[1]);
  return Number.isInteger(pid) && pid > 0 && pid !== process.pid && processRuns(pid);
}

/** Removes the staging directories of REPO whose maker is gone; returns how many there were. */
export function removeStagingDirs(repoPath: string): number {
  let removed = 0;
  let names: string[];
  try {
    names = readdirSync(join(repoPath, 'tmp'));
  } catch {
    return 0; // no tmp directory: nothing left
  }
  for (const name of names) {
    if (!name.startsWith(PREFIX) || makerRuns(name)) continue;
    rmSync(join(repoPath, 'tmp', name), { recursive: true, force: true });
    removed++;
  }
  return removed;
}
