// Which commit the booted deployment runs live (after apply-live), kept in
// /run: it lasts exactly as long as the transient overlay on /usr does, and a
// reboot forgets both. One file a deployment, named as ostree names its own
// run state (CHECKSUM.SERIAL).

import { mkdirSync, rmSync } from 'node:fs';
import { writeAtomically } from '../write-file.js';
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
  writeAtomically(stateFile(d), `${commit}\n`);
}

/**
 * What apply-live did to a deployment's /etc: the paths it added, and those
 * whose default it updated or removed. The deployment keeps that /etc after
 * the reboot into the next one (whose /etc the shutdown merged from it), so a
 * rollback to it takes these back, to the deployment's own defaults. Kept in
 * /var/lib/deblayer, which every deployment of the stateroot shares.
 */
export interface LiveEtcRecord {
  added: string[];
  replaced: string[];
}

const ETC_RECORDS = '/var/lib/deblayer/live-etc';

function etcRecordFile(d: Pick<Deployment, 'checksum' | 'serial'>): string {
  return `${ETC_RECORDS}/${d.checksum}.${d.serial}.json`;
}

export function liveEtcRecord(d: Pick<Deployment, 'checksum' | 'serial'>): LiveEtcRecord | undefined {
  const text = readTextIfPresent(etcRecordFile(d));
  if (text === '') return undefined;
  const r = JSON.parse(text) as Partial<LiveEtcRecord>;
  return { added: r.added ?? [], replaced: r.replaced ?? [] };
}

/** Adds a merge's paths to the deployment's record (apply-live may run more than once before the reboot). */
export function recordLiveEtc(d: Pick<Deployment, 'checksum' | 'serial'>, merge: { added: string[]; updated: string[]; removed: string[] }): void {
  const before = liveEtcRecord(d) ?? { added: [], replaced: [] };
  const added = [...new Set([...before.added, ...merge.added])];
  const replaced = [...new Set([...before.replaced, ...merge.updated, ...merge.removed])].filter((p) => !added.includes(p));
  if (added.length + replaced.length === 0) return;
  mkdirSync(ETC_RECORDS, { recursive: true });
  writeAtomically(etcRecordFile(d), `${JSON.stringify({ added, replaced }, null, 2)}\n`);
}

export function forgetLiveEtc(d: Pick<Deployment, 'checksum' | 'serial'>): void {
  rmSync(etcRecordFile(d), { force: true });
}
