// What an upgrade changes, as lines: what `upgrade --check` prints, and what
// the automatic upgrade keeps for `deblayer status`. Apart from upgrade.ts so
// that the command line can print them without loading the transaction.

import { planChanges } from '../apt/plan.js';
import type { UpgradeResult } from './upgrade.js';

/** What an upgrade changes, one line each: the base commit, then each layered package (old -> new). */
export function changeLines(result: UpgradeResult): string[] {
  const c = planChanges(result.plan);
  const base = result.previousBase === result.newBase ? `Base ${result.newBase.slice(0, 10)} (unchanged)` : `Base ${result.previousBase.slice(0, 10)} -> ${result.newBase.slice(0, 10)}`;
  if (result.notPulled) {
    const { remote, version } = result.notPulled;
    // No package lines: the layered packages are resolved against the new base once the upgrade has pulled it.
    return [`${base} (${version !== undefined ? `version ${version}, ` : ''}on remote ${remote}, not pulled yet)`];
  }
  return [
    base,
    ...[...c.upgraded, ...c.downgraded].map((p) => `  ${p.name} ${p.current} -> ${p.version}`),
    ...c.added.map((p) => `  ${p.name} (new) ${p.version}`),
    ...c.removed.map((p) => `  ${p.name} ${p.version} (removed)`),
  ];
}
