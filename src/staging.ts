// Staging directories: work trees in the repository's tmp/ (same file system
// as its objects, so a commit can hardlink from them). Each is made here with
// one prefix, so that the next transaction can remove what a killed one left
// without a list of names to keep in step (src/transactions/leftovers.ts).

import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const PREFIX = 'deblayer-';

/** A new staging directory for PURPOSE (import, pkg, db, ...) in REPO's tmp/. */
export function stagingDir(repoPath: string, purpose: string): string {
  mkdirSync(join(repoPath, 'tmp'), { recursive: true });
  return mkdtempSync(join(repoPath, 'tmp', `${PREFIX}${purpose}-`));
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
