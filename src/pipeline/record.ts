// The record stage: what the layer database keeps of a layer state. The state
// is recorded before the deploy and given its deployment after, so a kill in
// between leaves a pending state that the next transaction settles from what
// ostree did (src/transactions/leftovers.ts). The only stage that knows the
// database's rows.

import type { Plan } from '../apt/plan.js';
import type { KnownAccount } from '../base/accounts.js';
import type { CachedPackage } from '../compose/package-cache.js';
import type { Origin } from '../deploy/origin.js';
import type { PackageOutput } from '../scripts/dpkg-output.js';
import type { LayerDatabase } from '../db/layer-db.js';
import type { StateCommit } from './stages.js';
import { stateNumber, stateRef } from '../vocabulary/packages.js';

/** A transaction being recorded: its database (open, under the stateroot's lock) and row. */
export interface Recording {
  db: LayerDatabase;
  txn: number;
  /** The deblayer/state refs when the transaction began (it holds the lock: no other adds one). */
  stateRefs: string[];
}

/** The number of the next layer state: after every state the database lists and every deblayer/state/N ref. */
export function nextStateNumber(recording: Recording): number {
  return recording.db.nextStateId(Math.max(0, ...recording.stateRefs.map(stateNumber)) + 1);
}

/** Accounts scripts made in earlier states of this stateroot: they keep their ids. */
export function knownAccounts(recording: Recording): KnownAccount[] {
  return recording.db.accounts();
}

export interface StateToRecord {
  state: number;
  stateroot: string;
  baseCommit: string;
  origin: Origin;
  commit: StateCommit;
  /** The state layers nothing: its commit is the base's, kept by no state ref. */
  unlayered: boolean;
  made: 'derived' | 'incremental';
  skipScripts: string[];
  plan: Plan;
  packages: CachedPackage[];
}

export function recordState(record: Recording, s: StateToRecord): void {
  for (const p of s.packages) record.db.recordCachedPackage(p.ref, p.commit, p.record.package, p.record.version, p.record.architecture);
  record.db.recordState(record.txn, s.state, {
    stateroot: s.stateroot,
    baseCommit: s.baseCommit,
    ...(s.origin.baseRefspec ? { baseRefspec: s.origin.baseRefspec } : {}),
    commit: s.commit.checksum,
    ...(s.unlayered ? {} : { ref: s.commit.ref }),
    requested: s.origin.requested,
    requestedLocal: s.origin.requestedLocal,
    skipScripts: s.skipScripts,
    made: s.made,
    deployment: '',
    packages: s.plan.packages.map((p) => ({
      name: p.name,
      version: p.version,
      architecture: p.architecture,
      downloadSize: p.downloadSize,
      installedSize: p.installedSize,
      reason: p.reason,
      ...(p.requiredBy ? { requiredBy: p.requiredBy } : {}),
    })),
  });
}

/** Once deployed: the state's deployment, and the accounts its scripts made (a failed transaction leaves them as they were). */
export function recordDeployed(record: Recording, state: number, deploymentPath: string, accounts: KnownAccount[] = []): void {
  record.db.setStateDeployment(state, deploymentPath.split('/').pop()!);
  record.db.recordAccounts(accounts, state);
}

/** rollback --to N: state COPY as a copy of N's row, for the deploy of N's commit again; false when the database has no state N. */
export function recordStateCopy(record: Recording, of: number, copy: number, stateroot: string): boolean {
  const source = record.db.state(of);
  if (!source) return false;
  const { id: _, deployment: __, ...fields } = source;
  record.db.recordState(record.txn, copy, { ...fields, stateroot, ref: stateRef(copy), deployment: '' });
  return true;
}

/** A state whose deploy failed is not kept. */
export function forgetState(record: Recording, state: number): void {
  record.db.dropState(state);
}

export function recordScriptOutput(record: Recording, output: PackageOutput[]): void {
  record.db.recordScriptOutput(record.txn, output);
}
