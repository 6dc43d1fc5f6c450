// Which commit the booted deployment runs live (after apply-live), kept in
// /run: it lasts exactly as long as the transient overlay on /usr does, and a
// reboot forgets both. One file a deployment, named as ostree names its own
// run state (CHECKSUM.SERIAL).

import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import type { Deployment } from '../exec/ostree.js';
import { readTextIfPresent } from '../read-text.js';

const LIVE_DIR = '/run/deblayer/live';

function stateFile(d: Pick<Deployment, 'checksum' | 'serial'>): string {
  return `${LIVE_DIR}/${d.checksum}.${d.serial}`;
}

/** The commit made live on the booted deployment D, if any (only the running host has one). */
export function liveCommit(sysroot: string, d: Pick<Deployment, 'checksum' | 'serial' | 'booted'>): string | undefined {
  if (sysroot.replace(/\/+$/, '') !== '' || !d.booted) return undefined;
  return /^[0-9a-f]{64}$/.exec(readTextIfPresent(stateFile(d)).trim())?.[0];
}

export function recordLiveCommit(d: Pick<Deployment, 'checksum' | 'serial'>, commit: string): void {
  mkdirSync(LIVE_DIR, { recursive: true });
  const tmp = `${stateFile(d)}.tmp`;
  writeFileSync(tmp, `${commit}\n`);
  renameSync(tmp, stateFile(d));
}
