// deblayer install PKG|FILE.deb...: resolve against the base (and fetch).

import type { Command } from 'commander';
import { planChanges, renderPlan, type Plan } from '../apt/plan.js';
import { refuseOfflineSysroot, runApplyLive } from './apply-live.js';
import { DeblayerError, UsageError } from '../errors.js';
import type { LayerStep } from '../pipeline/stages.js';
import type { AptEnvironment } from '../apt/environment.js';
import type { Change } from '../pipeline/request.js';
import { addAptOptions, aptSettings, baseSelector, type AptCommandOptions } from './apt-options.js';
import { contextOf, type Output } from './context.js';
import { StageMeter } from './progress.js';
import { isLocalFile } from '../vocabulary/packages.js';

export interface InstallCommandOptions extends AptCommandOptions {
  assumeYes?: boolean;
  idempotent?: boolean;
  unchangedExit77?: boolean;
  dryRun?: boolean;
  downloadOnly?: boolean;
  cacheOnly?: boolean;
  allowInactive?: boolean;
  skipScripts?: string[];
  rebuild?: boolean;
  applyLive?: boolean;
}


export const LAYER_STEP_TEXT: Record<LayerStep, string> = {
  resolve: 'Resolving',
  download: 'Downloading packages',
  import: 'Importing packages into the package cache',
  remove: 'Removing base packages',
  compose: 'Composing the layered commit',
  scripts: 'Running maintainer scripts and triggers',
  deploy: 'Deploying',
};

export function register(program: Command): void {
  addTransactionOptions(addAptOptions(
    program
      .command('install')
      .description('layer packages (from the sources, or local .deb files) onto the base')
      .argument('<packages...>', 'package names (NAME, NAME=VERSION) or paths to .deb files')
      .option('-n, --dry-run', 'print the plan (what apt would add) and exit')
      .option('--download-only', 'resolve and download the packages into the cache, and stop')
      .option('-C, --cache-only', 'do not use the network: package lists and .deb files come from the cache')
      .option('--allow-inactive', 'accept packages the base already has (kept as inactive requests)')
      .option('--idempotent', 'do nothing, successfully, for packages already layered')
      .option('-A, --apply-live', 'also make the added packages usable now, without a reboot (deblayer apply-live): refused unless they are only additions')
      .option('--rebuild', 'derive the new state from the base, every layered package configured again, instead of building on the current state')
      .option('--no-install-recommends', 'do not add recommended packages (apt adds them by default)')
      .option(
        '--skip-scripts <package>',
        'do not run the maintainer scripts of PACKAGE (repeatable; kept for later transactions): for a script that cannot run offline',
        (value: string, previous: string[] = []) => [...previous, value],
      ),
  )).action(async (packages: string[], opts: InstallCommandOptions, command: Command) => {
    const out = contextOf(command);
    await runTransaction(out, opts, {
      kind: 'install',
      install: packages.filter((p) => !isLocalFile(p)),
      localFiles: packages.filter(isLocalFile),
      ...(opts.allowInactive ? { allowInactive: true } : {}),
    }, 'install');
  });
}

/** apt's prompt: an empty answer or one starting with y means yes. */
export async function askYesNo(question: string): Promise<boolean> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = (await rl.question(question)).trim().toLowerCase();
    return answer === '' || answer.startsWith('y');
  } finally {
    rl.close();
  }
}

/** Exit status for "nothing changed" with --unchanged-exit-77, as rpm-ostree has it. */
export const UNCHANGED_EXIT = 77;

/** The transaction behind install and uninstall, and how its result is shown. */
export async function runTransaction(out: Output, opts: InstallCommandOptions, change: Change, command: string): Promise<void> {
  if (opts.dryRun && opts.downloadOnly) throw new UsageError('--dry-run and --download-only do not go together');
  const mode = opts.dryRun ? 'dry-run' : opts.downloadOnly ? 'download-only' : 'deploy';
  if (opts.applyLive && mode !== 'deploy') throw new UsageError('--apply-live makes a deployment live: not with --dry-run or --download-only');
  // Refused before anything changes: the staged deployment, then the plan, must only add packages.
  if (opts.applyLive) {
    refuseOfflineSysroot(out);
    await (await import('../transactions/apply-live.js')).checkLiveInstall();
  }
  const { install } = await import('../transactions/install.js');
  const prompting = promptsBefore(out, opts, mode);
  const meter = new StageMeter(out);
  const result = await install({
    selector: baseSelector(out.options, opts),
    settings: aptSettings(out.options, opts),
    command,
    argv: process.argv.slice(2),
    mode,
    ...transactionHooks(out, meter),
    ...(opts.cacheOnly ? { cacheOnly: true } : {}),
    onResolved: (plan) => {
      if (opts.applyLive) refuseLiveChanges(plan);
      if (out.json || (mode === 'deploy' && !prompting)) return;
      out.result(`Resolving against ${plan.base.label} (commit ${plan.base.commit.slice(0, 10)})`);
      for (const line of renderPlan(plan)) out.result(line);
    },
    ...(prompting ? { confirm: () => askYesNo('Do you want to continue? [Y/n] ') } : {}),
    ...(opts.skipScripts ? { skipScripts: opts.skipScripts } : {}),
    ...(opts.rebuild ? { rebuild: true } : {}),
    onMade: (made, why) => out.verbose(made === 'incremental' ? 'Building on the current state: only what changes is configured.' : `Deriving the state from the base (${why}).`),
  }, change).finally(meter.clear);
  if (out.json) {
    const live = opts.applyLive && result.deployed ? await runApplyLive(out, result.deployed.commit) : undefined;
    out.data({
      dryRun: !!opts.dryRun,
      ...(live ? { live } : {}),
      ...(result.requests ? { requests: result.requests } : {}),
      ...(result.alreadyLayered ? { alreadyLayered: result.alreadyLayered } : {}),
      ...(result.deployed ? { deployed: result.deployed } : {}),
      ...result.plan,
      ...(result.fetched
        ? {
            files: Object.fromEntries(result.fetched.files),
            downloaded: result.fetched.downloaded,
            cached: result.fetched.cached,
          }
        : {}),
    });
    return;
  }
  if (result.requests && !result.alreadyLayered) {
    const { added, removed } = result.requests;
    out.result(`Requests: ${[...added.map((n) => `+${n}`), ...removed.map((n) => `-${n}`)].join(' ') || 'the same names (versions or local files change)'}`);
  }
  if (result.alreadyLayered || result.notLayered) {
    out.result(
      result.alreadyLayered
        ? `Already layered: ${result.alreadyLayered.join(', ')}. Nothing to do.`
        : `Not layered: ${result.notLayered!.join(', ')}. Nothing to do.`,
    );
    if (opts.unchangedExit77) process.exitCode = UNCHANGED_EXIT;
    return;
  }
  if (result.deployed) {
    const d = result.deployed;
    const added = result.plan.packages.map((p) => `${p.name} ${p.version}`);
    out.result(
      added.length === 0
        ? `Nothing layered any more: deployed the ${result.plan.base.label} itself.`
        : `Layered ${result.plan.requested.join(', ')}: ${added.length} package${added.length === 1 ? '' : 's'} on ${result.plan.base.label}.`,
    );
    const moved = planChanges(result.plan);
    const versions = [...moved.upgraded, ...moved.downgraded].map((p) => `${p.name} (${p.current} -> ${p.version})`);
    if (versions.length > 0) out.result(`  moved:      ${versions.join(', ')}`);
    out.result(`  commit:     ${d.commit} (${d.ref})`);
    out.result(`  deployment: ${d.path}`);
    if (opts.applyLive) await runApplyLive(out, d.commit);
    else out.result(d.staged ? 'Run "systemctl reboot" to start using it.' : 'The new deployment is the default of this sysroot: boot it to use it.');
    return;
  }
  if (result.fetched) {
    out.result(
      `Downloaded ${result.fetched.downloaded.length} package${result.fetched.downloaded.length === 1 ? '' : 's'}, ${result.fetched.cached.length} already in the cache.`,
    );
  }
}

/** install --apply-live: a plan that changes or removes a layered package is not made live, and not deployed. */
function refuseLiveChanges(plan: Plan): void {
  const c = planChanges(plan);
  const moved = [...c.upgraded, ...c.downgraded].map((p) => `${p.name} ${p.current} → ${p.version}`);
  const gone = c.removed.map((p) => `${p.name} removed`);
  if (moved.length + gone.length > 0) {
    throw new DeblayerError(`cannot apply live: this install changes packages in use (${[...moved, ...gone].join(', ')}); without --apply-live it is staged for the next boot`);
  }
}

/** Whether a deploy asks first: only a person at a terminal is asked, as apt does; -y, --json and pipes go ahead. */
export function promptsBefore(out: Output, opts: { assumeYes?: boolean }, mode: string): boolean {
  return mode === 'deploy' && !opts.assumeYes && !out.json && process.stdin.isTTY === true && process.stderr.isTTY === true;
}

/**
 * What a layering command shows of its transaction: each step's line and a
 * long step's count, apt's lines and download meter, maintainer scripts'
 * lines and each step's seconds with --verbose, notes for the user.
 */
export function transactionHooks(out: Output, meter: StageMeter) {
  return {
    onStart: (step: LayerStep, detail?: string) => meter.line(`${LAYER_STEP_TEXT[step]}${detail ? ` (${detail})` : ''}...`),
    onCount: (step: LayerStep, done: number, total: number, what?: string) => meter.count(LAYER_STEP_TEXT[step], done, total, what),
    onStep: (step: LayerStep, seconds: number) => out.verbose(`  ${step}: ${seconds.toFixed(2)} s`),
    onScriptLine: (line: string) => out.verbose(`  | ${line}`),
    onNotice: (line: string) => out.notice(line),
    onRefreshStart: (env: AptEnvironment) => meter.line(`No package lists cached for these sources yet: refreshing (${env.sources.origin})...`),
    onProgress: meter.line,
    onDownload: meter.update,
  };
}

/** Options that install and uninstall share. */
export function addTransactionOptions(command: Command): Command {
  return command
    .option('-y, --assume-yes', 'do not ask for confirmation on a terminal')
    .option('--unchanged-exit-77', 'exit with status 77 when nothing had to change');
}
