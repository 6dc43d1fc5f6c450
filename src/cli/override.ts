// deblayer override remove|reset: the base packages a deployment goes without,
// as rpm-ostree's overrides; kept in the origin and reapplied on upgrade.

import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import type { OverrideChange, OverrideResult } from '../transactions/override.js';
import { addAptOptions, aptSettings, baseSelector } from './apt-options.js';
import { contextOf, type Output } from './context.js';
import { addTransactionOptions, askYesNo, promptsBefore, transactionHooks, UNCHANGED_EXIT, type InstallCommandOptions } from './install.js';
import { StageMeter } from './progress.js';
import { isLocalFile } from '../vocabulary/packages.js';

interface OverrideCommandOptions extends InstallCommandOptions {
  all?: boolean;
}

/** override remove and override reset, under OVERRIDE (the `override` command). */
export function register(override: Command): void {
  addTransactionOptions(addAptOptions(
    override
      .command('remove')
      .description('a deployment without these base packages (purged as dpkg does), kept through upgrades')
      .argument('<packages...>', 'names of packages of the base')
      .option('-n, --dry-run', 'print what would change and exit')
      .option('-C, --cache-only', 'do not use the network: package lists and .deb files come from the cache')
      .option('--rebuild', 'derive the new state from the base, every layered package configured again, instead of purging from the current state'),
  )).action(async (packages: string[], opts: OverrideCommandOptions, command: Command) => {
    await runOverride(contextOf(command), opts, { remove: packages }, 'override remove');
  });
  addTransactionOptions(addAptOptions(
    override
      .command('replace')
      .description('another version of base packages, from the sources (NAME=VERSION) or a .deb file, kept through upgrades until the base catches up')
      .argument('<packages...>', 'NAME=VERSION, or paths to .deb files')
      .option('-n, --dry-run', 'print what would change and exit')
      .option('-C, --cache-only', 'do not use the network: package lists and .deb files come from the cache'),
  )).action(async (packages: string[], opts: OverrideCommandOptions, command: Command) => {
    await runOverride(contextOf(command), opts, { replace: packages.filter((p) => !isLocalFile(p)), localFiles: packages.filter(isLocalFile) }, 'override replace');
  });
  addTransactionOptions(addAptOptions(
    override
      .command('reset')
      .description('bring removed or replaced base packages back (all of them with --all)')
      .argument('[packages...]', 'names of removed or replaced base packages')
      .option('-a, --all', 'bring back every removed or replaced base package')
      .option('-n, --dry-run', 'print what would change and exit')
      .option('-C, --cache-only', 'do not use the network: package lists and .deb files come from the cache'),
  )).action(async (packages: string[], opts: OverrideCommandOptions, command: Command) => {
    if (opts.all === (packages.length > 0)) throw new UsageError('override reset takes package names, or --all');
    await runOverride(contextOf(command), opts, opts.all ? { resetAll: true } : { reset: packages }, 'override reset');
  });
}

const listed = (ps: { name: string; version: string }[]) => ps.map((p) => `  ${p.name} (${p.version})`);

async function runOverride(out: Output, opts: OverrideCommandOptions, change: OverrideChange, command: string): Promise<void> {
  const { override } = await import('../transactions/override.js');
  const mode = opts.dryRun ? 'dry-run' : 'deploy';
  const prompting = promptsBefore(out, opts, mode);
  const meter = new StageMeter(out);
  const result = await override({
    selector: baseSelector(out.options, opts),
    settings: aptSettings(out.options, opts),
    command,
    argv: process.argv.slice(2),
    mode,
    ...transactionHooks(out, meter),
    ...(opts.cacheOnly ? { cacheOnly: true } : {}),
    ...(opts.rebuild ? { rebuild: true } : {}),
    onOverride: ({ removing, replacing, restoring }) => {
      if (out.json || (mode === 'deploy' && !prompting)) return;
      if (removing.length > 0) out.result(['The following base packages will be REMOVED:', ...listed(removing)].join('\n'));
      if (replacing.length > 0) out.result(['The following base packages will be REPLACED:', ...replacing.map((p) => `  ${p.name} (${p.version} -> ${p.by})`)].join('\n'));
      if (restoring.length > 0) out.result(['The following base packages will come back:', ...listed(restoring)].join('\n'));
    },
    ...(prompting ? { confirm: () => askYesNo('Do you want to continue? [Y/n] ') } : {}),
    onMade: (made, why) => out.verbose(made === 'incremental' ? 'Building on the current state: only the removal is done.' : `Deriving the state from the base (${why}).`),
  }, change).finally(meter.clear);
  show(out, result, opts);
}

function show(out: Output, result: OverrideResult, opts: OverrideCommandOptions): void {
  if (out.json) {
    out.data({ dryRun: !!opts.dryRun, removing: result.removing, replacing: result.replacing, restoring: result.restoring, ...(result.unchanged ? { unchanged: result.unchanged } : {}), ...(result.deployed ? { deployed: result.deployed } : {}), plan: result.plan });
  } else if (result.unchanged) {
    out.result(result.unchanged.already.length > 0 ? `Already removed from the base: ${result.unchanged.already.join(', ')}. Nothing to do.` : 'No base package is removed or replaced. Nothing to do.');
  } else if (!result.deployed) {
    const kept = result.plan.packages.length;
    out.result(kept > 0 ? `The ${kept} layered package${kept === 1 ? '' : 's'} stay as they are.` : 'Nothing is layered.');
  } else {
    const d = result.deployed;
    if (result.removing.length > 0) out.result(`Removed from the base: ${result.removing.map((p) => `${p.name} ${p.version}`).join(', ')}.`);
    if (result.replacing.length > 0) out.result(`Replaced in the base: ${result.replacing.map((p) => `${p.name} ${p.version} -> ${p.by}`).join(', ')}.`);
    if (result.restoring.length > 0) out.result(`Back from the base: ${result.restoring.map((p) => `${p.name} ${p.version}`).join(', ')}.`);
    out.result(`  commit:     ${d.commit} (${d.ref})`);
    out.result(`  deployment: ${d.path}`);
    out.result(d.staged ? 'Run "systemctl reboot" to start using it.' : 'The new deployment is the default of this sysroot: boot it to use it.');
  }
  if (result.unchanged && opts.unchangedExit77) process.exitCode = UNCHANGED_EXIT;
}
