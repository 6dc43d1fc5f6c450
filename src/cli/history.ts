// deblayer history: every transaction and layer state, from the layer database.

import type { Command } from 'commander';
import { contextOf } from './context.js';

export function register(program: Command): void {
  program
    .command('history')
    .description('show every transaction and layer state recorded in the layer database')
    .action(async (_opts: unknown, command: Command) => {
      const out = contextOf(command);
      const [{ LayerDatabase, layerDatabasePath }, { sysrootStatus }] = await Promise.all([import('../db/layer-db.js'), import('../deploy/status.js')]);
      const stateroot = out.options.os ?? (await sysrootStatus(out.options.sysroot))[0]?.stateroot;
      if (!stateroot) {
        out.result(`No deployments in ${out.options.sysroot}: no history.`);
        return;
      }
      const path = layerDatabasePath(out.options.sysroot, stateroot);
      const db = LayerDatabase.open(path, { create: false });
      const entries = db ? db.history() : [];
      // --verbose: what maintainer scripts printed in each transaction (failed ones too).
      const scripts = new Map(db && out.options.verbose ? entries.map((e) => [e.transaction, db.scriptOutput(e.transaction)]) : []);
      db?.close();
      if (out.json) {
        out.data({ database: path, entries: entries.map((e) => (scripts.has(e.transaction) ? { ...e, scriptOutput: scripts.get(e.transaction) } : e)) });
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
          const made = e.state.made === 'incremental' ? 'built on the state before it' : 'derived from its base';
          out.result(`    commit ${e.state.commit.slice(0, 10)} on base ${e.state.baseCommit.slice(0, 10)}${e.state.baseRefspec ? ` (${e.state.baseRefspec})` : ''}, deployment ${e.state.deployment}, ${made}`);
          out.result(`    requested: ${[...e.state.requested, ...e.state.requestedLocal].join(' ') || '(nothing)'}; ${e.state.packages.length} packages`);
          if (e.state.skipScripts.length > 0) out.result(`    scripts skipped: ${e.state.skipScripts.join(' ')}`);
        }
        for (const s of scripts.get(e.transaction) ?? []) {
          if (s.output === '') continue;
          out.result(`    ${s.package || 'dpkg'} (${s.step}):`);
          for (const line of s.output.split('\n')) out.result(`      ${line}`);
        }
      }
    });
}
