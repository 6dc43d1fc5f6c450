// deblayer compose MANIFEST --repo REPO: a layer manifest composed into a
// commit on its branch (the image builder's side); --verify COMMIT builds a
// composed commit again and lists what differs.

import { Option, type Command } from 'commander';
import { renderPlan } from '../apt/plan.js';
import { requireRoot, UsageError } from '../errors.js';
import { renderDiff } from '../pipeline/package-diff.js';
import type { ComposeOptions, ComposeResult } from '../transactions/compose.js';
import type { VerifyResult } from '../transactions/verify.js';
import { aptSettings } from './apt-options.js';
import { contextOf, type Output } from './context.js';
import { StageMeter } from './progress.js';
import { transactionHooks, UNCHANGED_EXIT } from './install.js';

interface ComposeCommandOptions {
  dryRun?: boolean;
  unchangedExit77?: boolean;
  cacheOnly?: boolean;
  repoArchive?: string;
  verify?: string;
  allowUnauthenticated?: boolean;
}

export function register(program: Command): void {
  program
    .command('compose')
    .description("layer a manifest's packages on its base and commit the result on its branch, as a child of the branch's previous commit")
    .argument('[manifest]', 'the layer manifest (NAME.layer)')
    .option('-n, --dry-run', 'resolve and print the plan and the difference from the branch, and commit nothing')
    .option('--unchanged-exit-77', 'exit with status 77 when nothing changed (no new commit)')
    .option('-C, --cache-only', 'do not use the network: package lists and .deb files from the cache')
    .option('--allow-unauthenticated', 'accept unsigned or badly signed repositories (apt checks signatures otherwise)')
    .addOption(new Option('--repo-archive <file|url>', 'start from this tar.gz of the repository when --repo has none, and write it back after the commit'))
    .addOption(new Option('--verify <commit>', 'build a composed commit again from its metadata and list the paths that differ (exit status 1 when any does)'))
    .action(async (manifest: string | undefined, opts: ComposeCommandOptions, command: Command) => {
      const out = contextOf(command);
      if (!out.options.repo) throw new UsageError('compose needs --repo REPO: the repository with the base, where the branch is committed');
      if ((manifest === undefined) === (opts.verify === undefined)) throw new UsageError('compose takes a MANIFEST, or --verify COMMIT');
      if (opts.dryRun === undefined) requireRoot('deblayer compose');
      const meter = new StageMeter(out);
      const options = composeOptions(out, out.options.repo, opts, meter);
      if (opts.verify !== undefined) {
        const { verifyCompose } = await import('../transactions/verify.js');
        return showVerify(out, await verifyCompose(opts.verify, options).finally(meter.clear));
      }
      const [{ composeManifest }, { isUrl, openRepoArchive, writeRepoArchive }] = await Promise.all([
        import('../transactions/compose.js'),
        import('../transactions/repo-archive.js'),
      ]);
      const fromArchive = opts.repoArchive !== undefined && (await openRepoArchive(out.options.repo, opts.repoArchive, (l) => out.info(l)));
      const result = await composeManifest(manifest!, options).finally(meter.clear);
      if (opts.repoArchive !== undefined && result.commit) {
        if (isUrl(opts.repoArchive)) out.notice(`The repository is not written back to ${opts.repoArchive} (a URL): it is in ${out.options.repo}`);
        else {
          out.info(`Writing the repository back to ${opts.repoArchive}...`);
          await writeRepoArchive(out.options.repo, opts.repoArchive);
        }
      }
      showCompose(out, result, opts, fromArchive);
    });
}

function composeOptions(out: Output, repo: string, opts: ComposeCommandOptions, meter: StageMeter): ComposeOptions {
  return {
    repo,
    settings: aptSettings(out.options, opts),
    mode: opts.dryRun ? 'dry-run' : 'commit',
    ...(opts.cacheOnly ? { cacheOnly: true } : {}),
    ...transactionHooks(out, meter),
    onResolved: (plan) => {
      if (out.json || !opts.dryRun) return;
      out.result(`Resolving against ${plan.base.label} (commit ${plan.base.commit.slice(0, 10)})`);
      for (const line of renderPlan(plan)) out.result(line);
    },
  };
}

function showCompose(out: Output, r: ComposeResult, opts: ComposeCommandOptions, fromArchive: boolean): void {
  if (r.unchanged && opts.unchangedExit77) process.exitCode = UNCHANGED_EXIT;
  if (out.json) {
    out.data({ ...r, dryRun: !!opts.dryRun, fromArchive });
    return;
  }
  const previous = r.previous ? r.previous.slice(0, 10) : undefined;
  if (r.unchanged) {
    out.result(`No change: ${r.branch} is still ${previous} (same base commit, packages and manifest).`);
    return;
  }
  if (!r.commit) {
    out.result(previous ? `Would commit on ${r.branch} after ${previous}:` : `Would start ${r.branch}:`);
  } else {
    out.result(`Committed ${r.commit} on ${r.branch}${previous ? ` (parent ${previous})` : ' (its first commit)'}`);
    out.result(`  base:     ${r.base.ref} (commit ${r.base.commit.slice(0, 10)})`);
    out.result(`  packages: ${r.plan.packages.length} (${r.plan.requested.join(', ') || 'none'} requested)`);
  }
  for (const line of renderDiff(r.diff)) out.result(line);
}

function showVerify(out: Output, r: VerifyResult): void {
  if (!r.identical) process.exitCode = 1;
  if (out.json) {
    out.data(r);
    return;
  }
  out.result(`Rebuilt ${r.commit.slice(0, 10)}: content checksum ${r.contentChecksum.commit.slice(0, 10)}, rebuilt ${r.contentChecksum.rebuilt.slice(0, 10)}`);
  if (r.identical) {
    out.result('Identical: the same tree, path for path.');
    return;
  }
  out.result(`${r.differences.length} path${r.differences.length === 1 ? '' : 's'} differ (made differently by the maintainer scripts on each run):`);
  for (const d of r.differences) out.result(`  ${d.change} ${d.path}`);
}
