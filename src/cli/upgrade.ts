// deblayer upgrade: a new base (pulled when the origin names a remote), the same requests.

import type { Command } from 'commander';
import { renderPlan } from '../apt/plan.js';
import { addAptOptions, aptSettings, baseSelector } from './apt-options.js';
import { contextOf } from './context.js';
import { addTransactionOptions, UNCHANGED_EXIT, type InstallCommandOptions } from './install.js';

export function register(program: Command): void {
  addTransactionOptions(
    addAptOptions(
      program
        .command('upgrade')
        .description("move to the newest commit of the deployment's base and layer the same requests on it again")
        .option('-n, --dry-run', 'resolve the requests against the newest base known locally, print the plan and exit')
        .option('-C, --cache-only', 'do not use the network: no pull, lists and .deb files from the cache'),
    ),
  ).action(async (opts: InstallCommandOptions, command: Command) => {
    const out = contextOf(command);
    const { upgrade } = await import('../transactions/upgrade.js');
    const result = await upgrade({
      selector: baseSelector(out.options, opts),
      settings: aptSettings(out.options, opts),
      mode: opts.dryRun ? 'dry-run' : 'deploy',
      command: 'upgrade',
      argv: process.argv.slice(2),
      ...(opts.cacheOnly ? { cacheOnly: true } : {}),
      onPull: (line) => out.verbose(line),
      onStart: (step, detail) => out.info(`${step[0]!.toUpperCase()}${step.slice(1)}${detail ? ` (${detail})` : ''}...`),
      onStep: (step, seconds) => out.verbose(`  ${step}: ${seconds.toFixed(2)} s`),
      onProgress: (line) => out.info(line),
    });
    if (out.json) {
      out.data(result);
      return;
    }
    if (result.upToDate) {
      out.result(`No upgrade available: the base is still ${result.newBase.slice(0, 10)}.`);
      if (opts.unchangedExit77) process.exitCode = UNCHANGED_EXIT;
      return;
    }
    out.result(`Base ${result.previousBase.slice(0, 10)} -> ${result.newBase.slice(0, 10)}`);
    if (!result.deployed) {
      for (const line of renderPlan(result.plan)) out.result(line);
      return;
    }
    out.result(`Layered again: ${result.plan.requested.join(', ') || '(nothing)'}; ${result.plan.packages.length} packages.`);
    out.result(`  deployment: ${result.deployed.path}`);
    out.result(result.deployed.staged ? 'Run "systemctl reboot" to start using it.' : 'The new deployment is the default of this sysroot: boot it to use it.');
  });
}
