// deblayer cleanup: drop package-cache commits no kept layer state needs, and prune the repository.

import type { Command } from 'commander';
import { contextOf } from './context.js';

export function register(program: Command): void {
  program
    .command('cleanup')
    .description('drop package-cache commits that no kept layer state needs, and prune the repository')
    .option('--states', 'also drop layer states whose commit is not deployed (rollback --to cannot reach them afterwards)')
    .option('--downloads', 'also delete the downloaded .deb files in the cache')
    .action(async (opts: { states?: boolean; downloads?: boolean }, command: Command) => {
      const out = contextOf(command);
      const { cleanup } = await import('../transactions/cleanup.js');
      const result = await cleanup(out.options.sysroot, { ...opts, cacheDir: out.options.cacheDir });
      if (out.json) {
        out.data(result);
        return;
      }
      out.result(`Dropped ${result.removedStates.length} layer state${result.removedStates.length === 1 ? '' : 's'} and ${result.removedPackages.length} cached package${result.removedPackages.length === 1 ? '' : 's'}${opts.downloads ? `, deleted ${result.removedDownloads} downloaded files` : ''}.`);
      for (const r of [...result.removedStates, ...result.removedPackages]) out.verbose(`  ${r}`);
      if (result.prune) out.result(result.prune);
    });
}
