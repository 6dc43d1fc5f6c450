// override remove, checked as apt checks `apt-get remove`: an essential (or
// protected) package is refused outright, and apt says what else the removal
// takes with it on the deployment as it is (the base and the layered
// packages, nothing held). A removal that would take packages it does not
// name is refused, naming them: they go too only when named.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StatusEntry } from '../base/dpkg-status.js';
import { aptGet, aptMessages } from '../exec/apt.js';
import type { AptEnvironment } from './environment.js';
import { parseSimulation, parseUnmet, ResolveError } from './resolve.js';

export interface RemovalCheck {
  /** The base packages to remove now (with those removed before, already out of STATUSTEXT). */
  names: string[];
  /** Their status entries, as the base has them. */
  entries: StatusEntry[];
  /** The deployment's dpkg status as it is: the base's entries and the layered ones. */
  statusText: string;
  /** Names of the layered packages: one that depends on a removed package is uninstalled first. */
  layered: Set<string>;
}

export async function checkBaseRemoval(env: AptEnvironment, c: RemovalCheck): Promise<void> {
  const essential = c.entries.filter((e) => e.fields.Essential === 'yes' || e.fields.Protected === 'yes');
  if (essential.length > 0) {
    const e = essential[0]!;
    throw new ResolveError(
      `${e.package} is ${e.fields.Essential === 'yes' ? 'essential (Essential: yes)' : 'protected (Protected: yes)'}: apt and dpkg refuse to remove it, and so does deblayer`,
    );
  }
  const dir = mkdtempSync(join(env.baseDir, 'removal-'));
  try {
    const status = join(dir, 'status');
    writeFileSync(status, c.statusText.replace(/^Status: hold /gm, 'Status: install '));
    const r = await aptGet(
      env.invocation,
      // Its own status, and a cache built in memory: the transaction's own are left as they are.
      ['-o', `Dir::State::status=${status}`, '-o', 'Dir::Cache::pkgcache=', '--simulate', 'remove', ...c.names],
      `cannot check the removal of ${c.names.join(', ')}`,
      { allowFailure: true },
    );
    if (r.exitCode !== 0) {
      // apt keeps some packages whatever is asked (itself): its unmet dependency names the one that stays.
      const unmet = parseUnmet(`${r.stdout}\n${r.stderr}`).filter((u) => u.relation !== 'Recommends')[0];
      const error = unmet
        ? `${unmet.package}, which apt keeps installed, ${/Depends$/.test(unmet.relation) ? 'depends on' : unmet.relation.toLowerCase()} ${unmet.target}`
        : (aptMessages(r.stderr + r.stdout, 'E')[0] ?? `apt-get exited with status ${r.exitCode}`);
      throw new ResolveError(`cannot remove ${c.names.join(', ')}: ${error}`, { detail: `command: ${r.command}\n${r.stdout}${r.stderr}` });
    }
    const taken = [...new Set(parseSimulation(r.stdout).filter((s) => s.action === 'Remv').map((s) => s.name))].filter((n) => !c.names.includes(n));
    if (taken.length === 0) return;
    const layered = taken.filter((n) => c.layered.has(n));
    const base = taken.filter((n) => !c.layered.has(n));
    const what = [
      ...(base.length > 0 ? [`name ${base.length > 1 ? 'them' : 'it'} too (deblayer override remove ${[...c.names, ...base].join(' ')})`] : []),
      ...(layered.length > 0 ? [`uninstall ${layered.join(', ')} first`] : []),
    ];
    throw new ResolveError(
      `removing ${c.names.join(', ')} would also remove ${taken.join(', ')}, which depend${taken.length > 1 ? '' : 's'} on ${c.names.length > 1 ? 'them' : 'it'}: ${what.join(', and ')}`,
      { detail: `command: ${r.command}\n${r.stdout}` },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
