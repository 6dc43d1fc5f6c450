// What a transaction that was killed or crashed leaves behind, cleaned up by
// the next one once it holds the lock (so no other deblayer is using them):
// staging directories in the repository's tmp/, and its 'running' row in the
// layer database. ostree itself keeps deployments and refs consistent: a
// commit or deploy that never finished left no ref and no deployment.

import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { LayerDatabase } from '../db/layer-db.js';

const STAGING = /^deblayer-(pkg|db|import|scripts)-/;

export function cleanLeftovers(repoPath: string, db: LayerDatabase): { staging: number; interrupted: number } {
  let staging = 0;
  try {
    for (const name of readdirSync(join(repoPath, 'tmp'))) {
      if (!STAGING.test(name)) continue;
      rmSync(join(repoPath, 'tmp', name), { recursive: true, force: true });
      staging++;
    }
  } catch {
    // no tmp directory: nothing left
  }
  return { staging, interrupted: db.markInterrupted() };
}
