// deblayer upgrade: a new base (pulled when the origin names a remote), the
// same requests, and the layered packages at the newest versions their sources have.

import type { Command } from 'commander';
import { planChanges, renderPlan } from '../apt/plan.js';
import { UsageError } from '../errors.js';
import type { UpgradeResult } from '../transactions/upgrade.js';
import { changeLines } from '../transactions/upgrade-changes.js';
import { addAptOptions, aptSettings, baseSelector } from './apt-options.js';
import { contextOf, type Output } from './context.js';
import { StageMeter } from './progress.js';
import type { AptEnvironment } from '../apt/environment.js';
import { addTransactionOptions, transactionHooks, UNCHANGED_EXIT, type InstallCommandOptions } from './install.js';

interface UpgradeCommandOptions extends InstallCommandOptions {
  check?: boolean;
  triggerAutomaticUpdatePolicy?: boolean;
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
  )
    .option('--trigger-automatic-update-policy', 'do what UpdatePolicy in CONFIG-DIR/deblayer.conf says (none, check or stage), as deblayer-upgrade.service does, and keep the run for status')
    .action(async (opts: UpgradeCommandOptions, command: Command) => {
      const out = contextOf(command);
      if (opts.check && opts.dryRun) throw new UsageError('--check and --dry-run do not go together');
      if (opts.triggerAutomaticUpdatePolicy) {
        if (opts.check || opts.dryRun) throw new UsageError('--trigger-automatic-update-policy does not go with --check or --dry-run: the policy decides');
        return automatic(out, opts);
      }
      const { upgrade } = await import('../transactions/upgrade.js');
      const meter = new StageMeter(out);
      const result = await upgrade({ ...upgradeOptions(out, opts, meter), mode: opts.dryRun || opts.check ? 'dry-run' : 'deploy', ...(opts.check ? { check: true } : {}) }).finally(meter.clear);
      if (out.json) {
        out.data(result);
      } else if (result.upToDate) {
        out.result(noUpgrade(result));
      } else if (opts.check) {
        for (const line of changeLines(result)) out.result(line);
      } else {
        showUpgrade(out, result);
      }
      if (result.upToDate && (opts.unchangedExit77 || opts.check)) process.exitCode = UNCHANGED_EXIT;
    });
}

function upgradeOptions(out: Output, opts: UpgradeCommandOptions, meter: StageMeter) {
  return {
    selector: baseSelector(out.options, opts),
    settings: aptSettings(out.options, opts),
    command: 'upgrade',
    argv: process.argv.slice(2),
    ...(opts.cacheOnly ? { cacheOnly: true } : {}),
    onPull: (line: string) => out.verbose(line),
    ...transactionHooks(out, meter),
    onRefreshStart: (env: AptEnvironment) => meter.line(`Refreshing the package lists (${env.sources.origin})...`),
  };
}

const noUpgrade = (result: UpgradeResult): string =>
  `No upgrade available: the base is still ${result.newBase.slice(0, 10)}, and the layered packages are the newest their sources have.`;

/** --trigger-automatic-update-policy: the policy's run, told as upgrade and upgrade --check tell theirs. */
async function automatic(out: Output, opts: UpgradeCommandOptions): Promise<void> {
  const { automaticUpgrade } = await import('../transactions/automatic.js');
  const meter = new StageMeter(out);
  const { conf, run, upgrade: result } = await automaticUpgrade(upgradeOptions(out, opts, meter), out.options.configDir).finally(meter.clear);
  if (out.json) {
    out.data({ config: conf.path, ...run, ...(result ? { upgrade: result } : {}) });
  } else if (!result) {
    out.result(`Automatic updates are disabled: UpdatePolicy=none (${conf.path}).`);
  } else if (result.upToDate) {
    out.result(noUpgrade(result));
  } else if (!result.deployed) {
    for (const line of run.changes) out.result(line);
    out.result(`An upgrade is available; UpdatePolicy=check only looks (${conf.path}): "deblayer upgrade" deploys it.`);
  } else {
    showUpgrade(out, result);
  }
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
