// deblayer refresh-md: apt-get update for the base's sources, into deblayer's cache.

import type { Command } from 'commander';
import { addAptOptions, aptSettings, baseSelector, type AptCommandOptions } from './apt-options.js';
import { contextOf } from './context.js';
import { StageMeter } from './progress.js';
import { stopwatch } from '../steps.js';

export function register(program: Command): void {
  addAptOptions(
    program.command('refresh-md').description("download the package lists of the base's sources (apt-get update, with deblayer's private configuration)"),
  ).action(async (opts: AptCommandOptions, command: Command) => {
    const out = contextOf(command);
    const elapsed = stopwatch();
    const { openBaseApt } = await import('../transactions/base-apt.js');
    const meter = new StageMeter(out);
    const { contents, env } = await openBaseApt(baseSelector(out.options, opts), aptSettings(out.options, opts), {
      refresh: true,
      onRefreshStart: (e) => out.info(`Refreshing package lists from ${e.sources.origin}...`),
      onProgress: meter.line,
      onDownload: meter.update,
    }).finally(meter.clear);
    const seconds = elapsed();
    if (out.json) {
      out.data({ base: contents.base.label, commit: contents.base.commit, sources: env.sources.origin, lists: env.listsDir, seconds });
      return;
    }
    out.result(`Package lists for ${contents.base.label} are up to date (${env.sources.origin}, ${seconds.toFixed(1)} s).`);
  });
}
