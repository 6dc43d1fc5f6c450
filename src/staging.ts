// Staging directories: work trees in the repository's tmp/ (same file system
// as its objects, so a commit can hardlink from them). Each is made here with
// one prefix, so that the next transaction can remove what a killed one left
// without a list of names to keep in step (src/transactions/leftovers.ts).

import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

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
  const dir = mkdtempSync(join(repoPath, 'tmp', `${PREFIX}${purpose}-`));
  chmodSync(dir, 0o755);
  return dir;
}

/** Removes every staging directory of REPO; returns how many there were. */
export function removeStagingDirs(repoPath: string): number {
  let removed = 0;
  let names: string[];
  try {
    names = readdirSync(join(repoPath, 'tmp'));
  } catch {
    return 0; // no tmp directory: nothing left
  }
  for (const name of names) {
    if (!name.startsWith(PREFIX)) continue;
    rmSync(join(repoPath, 'tmp', name), { recursive: true, force: true });
    removed++;
  }
  return removed;
}
