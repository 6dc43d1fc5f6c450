// The frame of every transaction that changes a sysroot: take the stateroot's
// lock, open the layer database (a database that cannot be read stops here,
// before any change), clean what a killed transaction left, record the
// transaction as running, and record how it ended, failures too; a failed one
// takes back the layer state it composed but did not deploy.

import { userInfo } from 'node:os';
import { dirname } from 'node:path';
import { LayerDatabase, layerDatabasePath } from '../db/layer-db.js';
import { OstreeRepo, OstreeSysroot } from '../exec/ostree.js';
import { cleanLeftovers, dropOrphanStateRefs, dropUndeployedStates, settlePendingStates, stateRefs } from './leftovers.js';
import { takeLock } from './lock.js';
import { diagnose, messageOf } from '../diagnostics.js';
import type { Recording } from '../pipeline/record.js';

export type { Recording };

export interface TransactionFrame {
  sysroot: string;
  stateroot: string;
  repoPath: string;
  command: string;
  argv: string[];
}

export function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return String(process.getuid?.() ?? 'unknown');
  }
}

export async function recordedTransaction<T>(
  frame: TransactionFrame,
  body: (recording: Recording) => Promise<T>,
  outcome: (result: T) => 'ok' | 'unchanged' = () => 'ok',
): Promise<T> {
  const dbPath = layerDatabasePath(frame.sysroot, frame.stateroot);
  const unlock = takeLock(`${dirname(dbPath)}/lock`, `${frame.sysroot} (${frame.stateroot})`);
  let db: LayerDatabase;
  try {
    db = LayerDatabase.open(dbPath, { create: true })!;
  } catch (err) {
    unlock();
    throw err;
  }
  try {
    const repo = new OstreeRepo(frame.repoPath);
    const sysroot = new OstreeSysroot(frame.sysroot);
    await settlePendingStates(db, repo, sysroot);
    cleanLeftovers(frame.repoPath, db);
    const found = await stateRefs(repo);
    const orphans = await dropOrphanStateRefs(frame.sysroot, repo, sysroot, db, found);
    for (const ref of orphans) diagnose(`dropped ${ref}: a layer state no transaction recorded`);
    if (orphans.length > 0) await pruneAfterDrop(repo);
    const states = found.filter((r) => !orphans.includes(r));
    const txn = db.beginTransaction(frame.command, frame.argv, currentUser());
    try {
      const result = await body({ db, txn, stateRefs: states });
      db.finishTransaction(txn, outcome(result));
      return result;
    } catch (err) {
      db.finishTransaction(txn, 'failed', err instanceof Error ? err.message : String(err));
      // Best effort: the error to report is the transaction's own, not one of this cleanup.
      const dropped = await dropUndeployedStates(repo, sysroot, states).catch((e: unknown) => {
        diagnose(`cannot take back the layer states of the failed transaction: ${messageOf(e)}`);
        return [];
      });
      if (dropped.length > 0) await pruneAfterDrop(repo);
      throw err;
    }
  } finally {
    db.close();
    unlock();
  }
}

/**
 * The objects of states whose refs were just dropped (the commit before the
 * scripts and the one after, the trees no kept commit shares) go too: a failed
 * transaction leaves the repository as it found it. Only on that path: a
 * prune walks every ref, at a cost that follows the repository's size.
 */
async function pruneAfterDrop(repo: OstreeRepo): Promise<void> {
  await repo.prune().catch((e: unknown) => diagnose(`cannot prune ${repo.path}: ${messageOf(e)}`));
}
