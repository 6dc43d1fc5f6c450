// The last run of the automatic upgrade (deblayer-upgrade.service), kept
// beside the layer database in the stateroot's /var, for `deblayer status`:
// when it ran, under which policy, and what it found or staged.

import { writeAtomically } from '../write-file.js';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { readTextIfPresent } from '../read-text.js';
import type { UpdatePolicy } from '../vocabulary/deblayer-conf.js';
import { layerDatabasePath } from './layer-db.js';

export interface AutomaticRun {
  /** When the run started (ISO 8601, UTC). */
  time: string;
  policy: UpdatePolicy;
  outcome: 'disabled' | 'up-to-date' | 'available' | 'staged' | 'failed';
  /** What the upgrade changes (or would): the base, then each package, as `upgrade --check` prints them. */
  changes: string[];
  /** stage: the deployment it made (CHECKSUM.SERIAL). */
  deployment?: string;
  /** failed: the error, as deblayer printed it. */
  error?: string;
}

export function automaticRunPath(sysroot: string, stateroot: string): string {
  return join(dirname(layerDatabasePath(sysroot, stateroot)), 'automatic-upgrade.json');
}

export function readAutomaticRun(sysroot: string, stateroot: string): AutomaticRun | undefined {
  const text = readTextIfPresent(automaticRunPath(sysroot, stateroot));
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as AutomaticRun;
  } catch {
    return undefined; // a torn write cannot happen (rename), but a hand-edited file must not break status
  }
}

export function writeAutomaticRun(sysroot: string, stateroot: string, run: AutomaticRun): void {
  const path = automaticRunPath(sysroot, stateroot);
  mkdirSync(dirname(path), { recursive: true });
  writeAtomically(path, JSON.stringify(run, null, 2) + '\n');
}
