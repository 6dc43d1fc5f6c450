// What the layer database adds to the status model: for each deployment it
// knows, the layer state the deployment is and the transaction that made it.
// A deployment is that state when both the commit and the deployment's
// directory name (CHECKSUM.SERIAL) are the ones the state recorded: the same
// commit deployed by hand, or by ostree, is not a deblayer state.
//
// The database is only read here, and optional: missing, the deployments are
// shown from ostree alone; unreadable (corrupt, newer schema), the same, with
// a warning naming the file. It is never changed, so that the transaction
// that next needs it still reports it as it is.

import { LayerDatabase, LayerDatabaseError, layerDatabasePath, type StateSummary } from '../db/layer-db.js';
import type { DeploymentStatus } from './status.js';

export interface LayerStateStatus {
  /** The layer state number (history's "state N", ref deblayer/state/N). */
  state: number;
  /** The transaction that made the state: `command` from the command word on, as typed. */
  transaction: { id: number; command: string; time: string };
}

export type DeploymentLayerStatus = DeploymentStatus & Partial<LayerStateStatus>;

export interface LayerStatus {
  deployments: DeploymentLayerStatus[];
  /** One line for each database that could not be read. */
  warnings: string[];
}

/** The command line from the command word on (the global options before it name paths, not what was done). */
function commandLine(t: StateSummary['transaction']): string {
  const at = t.argv.indexOf(t.command);
  return at >= 0 ? t.argv.slice(at).join(' ') : t.command;
}

function readStates(path: string): StateSummary[] | undefined {
  const db = LayerDatabase.open(path, { create: false, queryOnly: true });
  if (!db) return undefined;
  try {
    return db.states();
  } catch (err) {
    // Opened, but its tables are not what this schema says (a damaged page, a foreign file).
    throw new LayerDatabaseError(`layer database ${path} cannot be read: ${(err as Error).message}`, { cause: err });
  } finally {
    db.close();
  }
}

export function withLayerStates(sysroot: string, deployments: DeploymentStatus[]): LayerStatus {
  const warnings: string[] = [];
  // By path: on a booted host every stateroot's path is the booted one's /var.
  const byPath = new Map<string, StateSummary[]>();
  for (const path of new Set(deployments.map((d) => layerDatabasePath(sysroot, d.stateroot)))) {
    try {
      byPath.set(path, readStates(path) ?? []);
    } catch (err) {
      if (!(err instanceof LayerDatabaseError)) throw err;
      warnings.push(`${err.message}; showing the deployments from ostree alone`);
    }
  }
  return {
    warnings,
    deployments: deployments.map((d) => {
      const name = `${d.checksum}.${d.serial}`;
      // The newest state wins: ostree reuses a serial once the deployment that had it is gone.
      const state = (byPath.get(layerDatabasePath(sysroot, d.stateroot)) ?? [])
        .filter((s) => s.stateroot === d.stateroot && s.commit === d.checksum && s.deployment === name)
        .pop();
      if (!state) return d;
      return { ...d, state: state.id, transaction: { id: state.transaction.id, command: commandLine(state.transaction), time: state.transaction.started } };
    }),
  };
}
