// deblayer sysext PKG... -o NAME.raw: the packages as a systemd system
// extension image, built against the base (the sysroot's deployment's, or
// --base in --repo), to be merged with systemd-sysext instead of layered.

import type { Command } from 'commander';
import { Option } from 'commander';
import { aptSize, renderPlan } from '../apt/plan.js';
import { isLocalFile } from '../vocabulary/packages.js';
import { addAptOptions, aptSettings, baseSelector, type AptCommandOptions } from './apt-options.js';
import { contextOf } from './context.js';
import { transactionHooks } from './install.js';
import { StageMeter } from './progress.js';
import { resolve } from 'node:path';

interface SysextCommandOptions extends AptCommandOptions {
  output: string;
  format: 'erofs' | 'squashfs';
  cacheOnly?: boolean;
  withoutEtc?: boolean;
}

export function register(program: Command): void {
  addAptOptions(
    program
      .command('sysext')
      .description('make a systemd system extension image (for systemd-sysext) of packages, resolved against the base, instead of layering them')
      .argument('<packages...>', 'package names (NAME, NAME=VERSION) or paths to .deb files')
      .requiredOption('-o, --output <NAME.raw>', 'the image to write; NAME names the extension')
      .addOption(new Option('--format <format>', 'file system of the image').choices(['erofs', 'squashfs']).default('erofs'))
      .option('--without-etc', 'leave out the files the packages put in /etc (conffiles, what their scripts write there) instead of refusing them, for programs that run without them')
      .option('-C, --cache-only', 'do not use the network: package lists and .deb files come from the cache')
      .option('--no-install-recommends', 'do not add recommended packages (apt adds them by default)'),
  ).action(async (packages: string[], opts: SysextCommandOptions, command: Command) => {
    const out = contextOf(command);
    const { buildSysext } = await import('../transactions/sysext.js');
    const meter = new StageMeter(out);
    const result = await buildSysext({
      selector: baseSelector(out.options, opts),
      settings: aptSettings(out.options, opts),
      output: resolve(opts.output),
      format: opts.format,
      ...transactionHooks(out, meter),
      ...(opts.cacheOnly ? { cacheOnly: true } : {}),
      ...(opts.withoutEtc ? { withoutEtc: true } : {}),
      onResolved: (plan) => {
        if (out.json) return;
        out.result(`Resolving against ${plan.base.label} (commit ${plan.base.commit.slice(0, 10)})`);
        for (const line of renderPlan(plan)) out.result(line);
      },
    }, { install: packages.filter((p) => !isLocalFile(p)), localFiles: packages.filter(isLocalFile) }).finally(meter.clear);
    for (const note of result.notes) out.notice(note);
    if (out.json) {
      out.data({ ...result, plan: undefined, packages: result.plan.packages.map((p) => `${p.name}=${p.version}`), requested: result.plan.requested });
      return;
    }
    out.result(`Wrote ${result.output}: ${result.format}, ${aptSize(result.size)}, ${result.entries} entries, ${result.plan.packages.length} package${result.plan.packages.length === 1 ? '' : 's'} on ${result.base.label}.`);
    out.result(`  extension-release.${result.name}: ${result.extensionRelease.trim().split('\n').join(' ')}`);
    out.result(`Copy it to /var/lib/extensions/ and run "systemd-sysext merge" (or refresh) to use it.`);
  });
}
