// deblayer rebase [REMOTE:]BRANCH: the deployment moves to another base branch, keeping its requests.

import type { Command } from 'commander';
import { renderPlan } from '../apt/plan.js';
import { short } from '../exec/ostree.js';
import type { rebase } from '../transactions/rebase.js';
import { addAptOptions, aptSettings, baseSelector } from './apt-options.js';
import { contextOf } from './context.js';
import { StageMeter } from './progress.js';
import { addTransactionOptions, UNCHANGED_EXIT, type InstallCommandOptions } from './install.js';

interface RebaseCommandOptions extends InstallCommandOptions {
  remote?: string;
  gpgImport?: string;
  gpgVerify?: boolean;
}

export function register(program: Command): void {
  addTransactionOptions(
    addAptOptions(
      program
        .command('rebase')
        .description('move the deployment to another base branch ([REMOTE:]BRANCH) and layer the same requests on it')
        .argument('<refspec>', 'the branch to follow: REMOTE:BRANCH (pulled), or BRANCH of the local repository')
        .option('--remote <name=url>', 'add remote NAME with URL to the repository first')
        .option('--gpg-import <keyfile>', "the remote's GPG key (its signatures are verified by default)")
        .option('--no-gpg-verify', 'add the remote without signature verification (an unsigned remote)')
        .option('-n, --dry-run', 'resolve the requests against the branch as the repository has it, print the plan and exit (nothing is pulled)'),
    ),
  ).action(async (to: string, opts: RebaseCommandOptions, command: Command) => {
    const out = contextOf(command);
    const [{ rebase }, { parseRemoteOption }] = await Promise.all([import('../transactions/rebase.js'), import('../transactions/rebase-remote.js')]);
    const meter = new StageMeter(out);
    const result = await rebase({
      selector: baseSelector(out.options, opts),
      settings: aptSettings(out.options, opts),
      mode: opts.dryRun ? 'dry-run' : 'deploy',
      to,
      ...(opts.remote !== undefined ? { add: parseRemoteOption(opts.remote) } : {}),
      ...(opts.gpgImport !== undefined ? { gpgImport: opts.gpgImport } : {}),
      gpgVerify: opts.gpgVerify !== false,
      command: 'rebase',
      argv: process.argv.slice(2),
      onPull: (line) => out.verbose(line),
      onStart: (step, detail) => meter.line(`${step[0]!.toUpperCase()}${step.slice(1)}${detail ? ` (${detail})` : ''}...`),
      onCount: (step, done, total, what) => meter.count(`${step[0]!.toUpperCase()}${step.slice(1)}`, done, total, what),
      onStep: (step, seconds) => out.verbose(`  ${step}: ${seconds.toFixed(2)} s`),
      onProgress: meter.line,
      onDownload: meter.update,
      onNotice: (line) => out.notice(line),
    }).finally(meter.clear);
    if (out.json) out.data(result);
    else showResult(out, result);
    if (result.unchanged && opts.unchangedExit77) process.exitCode = UNCHANGED_EXIT;
  });
}

function showResult(out: ReturnType<typeof contextOf>, result: Awaited<ReturnType<typeof rebase>>): void {
  if (result.unchanged) {
    out.result(`Already on ${result.refspec} at ${short(result.previousBase)}: nothing to do.`);
    return;
  }
  const newBase = result.newBase ? short(result.newBase) : '(not pulled yet: a dry run does not pull)';
  out.result(`Rebase ${result.previousRefspec ?? '(no refspec)'} -> ${result.refspec}; base ${short(result.previousBase)} -> ${newBase}`);
  const again = `Layered again: ${result.plan.requested.join(', ') || '(nothing)'}; ${result.plan.packages.length} packages.`;
  if (!result.deployed) {
    // The plan lists what changes; the packages kept at their versions are layered again too.
    if (result.newBase) for (const line of [...renderPlan(result.plan), again]) out.result(line);
    return;
  }
  out.result(again);
  out.result(`  deployment: ${result.deployed.path}`);
  out.result(result.deployed.staged ? 'Run "systemctl reboot" to start using it.' : 'The new deployment is the default of this sysroot: boot it to use it.');
}
