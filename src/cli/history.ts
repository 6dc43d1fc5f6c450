// deblayer history: every transaction and layer state, from the layer database.

import type { Command } from 'commander';
import { LayerDatabase, layerDatabasePath } from '../db/layer-db.js';
import { sysrootStatus } from '../deploy/status.js';
import { contextOf } from './context.js';

export function register(program: Command): void {
  program
    .command('history')
    .description('show every transaction and layer state recorded in the layer database')
    .action(async (_opts: unknown, command: Command) => {
      const out = contextOf(command);
      const stateroot = out.options.os ?? (await sysrootStatus(out.options.sysroot))[0]?.stateroot;
      if (!stateroot) {
        out.result(`No deployments in ${out.options.sysroot}: no history.`);
        return;
      }
      const path = layerDatabasePath(out.options.sysroot, stateroot);
      const db = LayerDatabase.open(path, { create: false });
      const entries = db ? db.history() : [];
      db?.close();
      if (out.json) {
        out.data({ database: path, entries });
        return;
      }
      if (entries.length === 0) {
        out.result(`No transactions recorded yet (${path}).`);
        return;
      }
      for (const e of entries) {
        const state = e.state ? `state ${e.state.id}` : 'no new state';
        out.result(`#${e.transaction} ${e.started} ${e.user} deblayer ${e.argv.join(' ')}: ${e.result}${e.error ? ` (${e.error})` : ''}, ${state}`);
        if (e.state) {
          out.result(`    commit ${e.state.commit.slice(0, 10)} on base ${e.state.baseCommit.slice(0, 10)}${e.state.baseRefspec ? ` (${e.state.baseRefspec})` : ''}, deployment ${e.state.deployment}`);
          out.result(`    requested: ${[...e.state.requested, ...e.state.requestedLocal].join(' ') || '(nothing)'}; ${e.state.packages.length} packages`);
        }
      }
    });
}
