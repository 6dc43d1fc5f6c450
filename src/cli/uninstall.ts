// deblayer uninstall PKG...: recompose the base without them.

import type { Command } from 'commander';
import { addAptOptions } from './apt-options.js';
import { contextOf } from './context.js';
import { addTransactionOptions, runTransaction, type InstallCommandOptions } from './install.js';

export function register(program: Command): void {
  addTransactionOptions(addAptOptions(
    program
      .command('uninstall')
      .description('remove layered packages: purged from the current state as dpkg does, or the other requests derived from the base again')
      .argument('<packages...>', 'names of layered packages (local ones by package name)')
      .option('-n, --dry-run', 'print the plan and exit')
      .option('-C, --cache-only', 'do not use the network: package lists and .deb files come from the cache')
      .option('--idempotent', 'do nothing, successfully, for packages that are not layered')
      .option('--rebuild', 'derive the new state from the base, every remaining package configured again, instead of purging from the current state')
      .option('--no-install-recommends', 'do not add recommended packages (apt adds them by default)'),
  )).action(async (packages: string[], opts: InstallCommandOptions, command: Command) => {
    await runTransaction(contextOf(command), opts, { kind: 'uninstall', drop: packages, ...(opts.idempotent ? { idempotent: true } : {}) }, 'uninstall');
  });
}
