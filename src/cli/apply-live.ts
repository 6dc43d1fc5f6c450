// deblayer apply-live: the next deployment's additions to the booted one,
// usable now (rpm-ostree apply-live); install --apply-live ends with it.

import type { Command } from 'commander';
import type { ApplyLiveResult } from '../transactions/apply-live.js';
import { UsageError } from '../errors.js';
import { contextOf, type Output } from './context.js';
import { UNCHANGED_EXIT } from './install.js';

export function register(program: Command): void {
  program
    .command('apply-live')
    .description('make the packages the staged deployment adds usable now, without a reboot (it stays the next boot\'s default)')
    .option('--unchanged-exit-77', 'exit with status 77 when the staged deployment is live already')
    .action(async (opts: { unchangedExit77?: boolean }, command: Command) => {
      const out = contextOf(command);
      const result = await runApplyLive(out);
      if (result.unchanged && opts.unchangedExit77) process.exitCode = UNCHANGED_EXIT;
    });
}

export async function runApplyLive(out: Output, expect?: string): Promise<ApplyLiveResult> {
  refuseOfflineSysroot(out);
  const { applyLive } = await import('../transactions/apply-live.js');
  const result = await applyLive({ argv: process.argv.slice(2), ...(expect ? { expect } : {}), onStep: (text) => out.info(text) });
  for (const w of result.warnings) out.warn(w);
  if (out.json) {
    if (!expect) out.data(result);
    return result;
  }
  for (const line of liveLines(result)) out.result(line);
  return result;
}

/** apply-live changes what runs: the booted host's own sysroot only. */
export function refuseOfflineSysroot(out: Output): void {
  if (out.options.sysroot !== '/') throw new UsageError(`apply-live changes the running system, and ${out.options.sysroot} is an offline sysroot: boot it, or stage without --apply-live`);
}

export function liveLines(r: ApplyLiveResult): string[] {
  const target = r.target.slice(0, 10);
  if (r.unchanged) return [`${target} is live already: nothing to apply.`];
  const lines = [`Applied ${target} live: ${r.addedPackages.length} package${r.addedPackages.length === 1 ? '' : 's'} added${r.addedPackages.length > 0 ? ` (${r.addedPackages.join(', ')})` : ''}.`];
  lines.push(`  /usr: ${r.files.added} added, ${r.files.changed} changed, ${r.files.removed} removed; /etc: ${r.etc.added.length} new defaults, ${r.etc.updated.length} updated, ${r.etc.removed.length} removed`);
  if (r.etc.kept.length > 0) lines.push(`  kept as the admin has them (the next boot keeps them too): ${r.etc.kept.join(', ')}`);
  if (r.enabledUnits.length > 0) lines.push(`  enabled, not started: ${r.enabledUnits.join(', ')} (systemctl start, or the next boot, starts them)`);
  lines.push(`The staged deployment ${target} stays the next boot's default, with the same files: the reboot keeps what is live now.`);
  return lines;
}
