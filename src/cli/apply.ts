// deblayer apply MANIFEST: the host's layered set made equal to a layer
// manifest's Packages in one transaction, installs and removals together (the
// declarative client that rpm-ostree has only as an experiment).

import type { Command } from 'commander';
import { addAptOptions } from './apt-options.js';
import { contextOf } from './context.js';
import { addTransactionOptions, runTransaction, type InstallCommandOptions } from './install.js';

export function register(program: Command): void {
  addTransactionOptions(addAptOptions(
    program
      .command('apply')
      .description("make the layered packages exactly a manifest's Packages: install what it adds, remove what it leaves out")
      .argument('<manifest>', 'the layer manifest (NAME.layer); its Packages, Sources and Skip-Scripts are used')
      .option('-n, --dry-run', 'print the difference and the plan, and exit')
      .option('-C, --cache-only', 'do not use the network: package lists and .deb files come from the cache')
      .option('--no-install-recommends', 'do not add recommended packages (apt adds them by default)'),
  )).action(async (path: string, opts: InstallCommandOptions, command: Command) => {
    const { readManifest } = await import('../manifest/manifest.js');
    const manifest = readManifest(path);
    const withManifest: InstallCommandOptions = {
      ...opts,
      ...(manifest.sources.length > 0 && !opts.source ? { source: manifest.sources } : {}),
      ...(manifest.skipScripts.length > 0 ? { skipScripts: manifest.skipScripts } : {}),
    };
    await runTransaction(contextOf(command), withManifest, { kind: 'set', packages: manifest.packages, localFiles: manifest.localFiles }, 'apply');
  });
}
