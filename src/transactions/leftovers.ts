// What a transaction that was killed or crashed leaves behind, cleaned up by
// the next one once it holds the lock (so no other deblayer is using them):
// staging directories in the repository's tmp/, and its 'running' row in the
// layer database. ostree itself keeps deployments and refs consistent: a
// commit or deploy that never finished left no ref and no deployment.
//
// And what a transaction that failed leaves, cleaned up by the transaction
// itself: the ref of a layer state it composed but could not deploy.

import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { LayerDatabase, layerDatabasePath } from '../db/layer-db.js';
import type { OstreeRepo, OstreeSysroot } from '../exec/ostree.js';
import { diagnose, messageOf } from '../diagnostics.js';
import { removeStagingDirs } from '../staging.js';
import { STATE_REFS } from '../vocabulary/packages.js';

export function cleanLeftovers(repoPath: string, db: LayerDatabase): { staging: number; interrupted: number } {
  return { staging: removeStagingDirs(repoPath), interrupted: db.markInterrupted() };
}

/**
 * States recorded before a deploy whose transaction was killed: if ostree made
 * the deployment, the transaction did its work and the state gets its
 * deployment; if not, the state goes, with its ref. Returns how many were settled.
 */
export async function settlePendingStates(db: LayerDatabase, repo: OstreeRepo, sysroot: OstreeSysroot): Promise<number> {
  const pending = db.pendingStates();
  if (pending.length === 0) return 0;
  const deployments = await sysroot.deployments();
  for (const state of pending) {
    const made = deployments.find((d) => d.checksum === state.commit && d.stateroot === state.stateroot);
    if (made) {
      db.setStateDeployment(state.id, sysroot.deploymentPath(made).split('/').pop()!);
      db.markCompletedAfterInterruption(state.transaction);
    } else {
      db.dropState(state.id);
      if (state.ref !== null && !deployments.some((d) => d.checksum === state.commit)) await repo.deleteRef(state.ref).catch((e: unknown) => diagnose(`cannot delete ${state.ref}: ${messageOf(e)}`));
    }
  }
  return pending.length;
}

/** The layer-state refs of a repository, taken before a transaction for dropUndeployedStates. */
export function stateRefs(repo: OstreeRepo): Promise<string[]> {
  return repo.refs(STATE_REFS);
}

/**
 * A transaction that composed deblayer/state/N and then failed before its
 * deploy (in the scripts stage, say, or in the deploy itself, whose state the
 * database has dropped) left a ref that no deployment uses and that the
 * database does not list: history would not show it, yet rollback --to N
 * would deploy it. Such refs go; a state whose commit is deployed stays.
 * Returns the refs dropped.
 */
export async function dropUndeployedStates(repo: OstreeRepo, sysroot: OstreeSysroot, before: string[]): Promise<string[]> {
  return dropUndeployed(repo, sysroot, (await stateRefs(repo)).filter((r) => !before.includes(r)));
}

/** Deletes those of REFS whose commit no deployment uses; returns them. */
async function dropUndeployed(repo: OstreeRepo, sysroot: OstreeSysroot, refs: string[]): Promise<string[]> {
  if (refs.length === 0) return [];
  const deployed = new Set((await sysroot.deployments()).map((d) => d.checksum));
  const dropped: string[] = [];
  for (const ref of refs) {
    const commit = await repo.resolve(ref);
    if (commit !== undefined && deployed.has(commit)) continue;
    await repo.deleteRef(ref);
    dropped.push(ref);
  }
  return dropped;
}

/**
 * Refs deblayer/state/N that no layer database of the sysroot names and no
 * deployment uses: a transaction killed between its commit and the row that
 * records it (in the scripts stage, say) left them. rollback --to could
 * deploy them and state numbers would skip them, so they go. Refs named by
 * another stateroot's database stay (the repository is shared). Returns the
 * refs dropped.
 */
export async function dropOrphanStateRefs(sysrootPath: string, repo: OstreeRepo, sysroot: OstreeSysroot, own: LayerDatabase, refs: string[]): Promise<string[]> {
  if (refs.length === 0) return [];
  const named = new Set(own.states().map((s) => s.id));
  for (const path of otherDatabases(sysrootPath, own.path)) {
    let other: LayerDatabase | undefined;
    try {
      other = LayerDatabase.open(path, { create: false, queryOnly: true });
      for (const s of other?.states() ?? []) named.add(s.id);
    } catch (err) {
      // What it names is unknown: no ref can be called an orphan.
      diagnose(`layer states not checked for leftovers: ${messageOf(err)}`);
      return [];
    } finally {
      other?.close();
    }
  }
  return dropUndeployed(repo, sysroot, refs.filter((r) => !named.has(Number(r.split('/').pop()))));
}

/** The layer databases of the sysroot's other stateroots. */
function otherDatabases(sysrootPath: string, own: string): string[] {
  const deploy = join(sysrootPath, 'ostree/deploy');
  let stateroots: string[] = [];
  try {
    stateroots = readdirSync(deploy);
  } catch {
    return [];
  }
  return stateroots.map((s) => layerDatabasePath(sysrootPath, s)).filter((p) => p !== own && existsSync(p));
}
