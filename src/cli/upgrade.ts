// deblayer upgrade: a new base (pulled when the origin names a remote), the
// same requests, and the layered packages at the newest versions their sources have.

import type { Command } from 'commander';
import { planChanges, renderPlan } from '../apt/plan.js';
import { UsageError } from '../errors.js';
import type { UpgradeResult } from '../transactions/upgrade.js';
import { addAptOptions, aptSettings, baseSelector } from './apt-options.js';
import { contextOf, type Output } from './context.js';
import { addTransactionOptions, LAYER_STEP_TEXT, UNCHANGED_EXIT, type InstallCommandOptions } from './install.js';

interface UpgradeCommandOptions extends InstallCommandOptions {
  check?: boolean;
}

export function register(program: Command): void {
  addTransactionOptions(
    addAptOptions(
      program
        .command('upgrade')
        .description("move to the newest commit of the deployment's base and the newest versions of the layered packages")
        .option('-n, --dry-run', 'resolve the requests against the newest base known locally, print the plan and exit')
        .option('--check', "only list what would change (base commit, package versions), asking a remote base's server; exit 77 when nothing would")
        .option('-C, --cache-only', 'do not use the network: no pull, no refresh of the lists, .deb files from the cache'),
    ),
  ).action(async (opts: UpgradeCommandOptions, command: Command) => {
    const out = contextOf(command);
    if (opts.check && opts.dryRun) throw new UsageError('--check and --dry-run do not go together');
    const { upgrade } = await import('../transactions/upgrade.js');
    const result = await upgrade({
      selector: baseSelector(out.options, opts),
      settings: aptSettings(out.options, opts),
      mode: opts.dryRun || opts.check ? 'dry-run' : 'deploy',
      ...(opts.check ? { check: true } : {}),
      command: 'upgrade',
      argv: process.argv.slice(2),
      ...(opts.cacheOnly ? { cacheOnly: true } : {}),
      onPull: (line) => out.verbose(line),
      onStart: (step, detail) => out.info(`${LAYER_STEP_TEXT[step]}${detail ? ` (${detail})` : ''}...`),
      onStep: (step, seconds) => out.verbose(`  ${step}: ${seconds.toFixed(2)} s`),
      onRefreshStart: (env) => out.info(`Refreshing the package lists (${env.sources.origin})...`),
      onProgress: (line) => out.info(line),
    });
    if (out.json) {
      out.data(result);
    } else if (result.upToDate) {
      out.result(`No upgrade available: the base is still ${result.newBase.slice(0, 10)}, and the layered packages are the newest their sources have.`);
    } else if (opts.check) {
      for (const line of changeLines(result)) out.result(line);
    } else {
      showUpgrade(out, result);
    }
    if (result.upToDate && (opts.unchangedExit77 || opts.check)) process.exitCode = UNCHANGED_EXIT;
  });
}

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

function showUpgrade(out: Output, result: UpgradeResult): void {
  out.result(changeLines(result)[0]!);
  const again = `Layered again: ${result.plan.requested.join(', ') || '(nothing)'}; ${result.plan.packages.length} packages.`;
  if (!result.deployed) {
    for (const line of [...renderPlan(result.plan), again]) out.result(line);
    return;
  }
  const c = planChanges(result.plan);
  for (const p of [...c.upgraded, ...c.downgraded]) out.result(`  ${p.name} ${p.current} -> ${p.version}`);
  out.result(again);
  out.result(`  deployment: ${result.deployed.path}`);
  out.result(result.deployed.staged ? 'Run "systemctl reboot" to start using it.' : 'The new deployment is the default of this sysroot: boot it to use it.');
}
