// deblayer usroverlay: a writable overlay on /usr of the booted deployment
// (`ostree admin unlock`), for debugging, as rpm-ostree usroverlay; what is
// changed there is gone at the next boot (kept, with --hotfix).

import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { DeblayerError, requireRoot } from '../errors.js';
import { contextOf } from './context.js';
import { UNCHANGED_EXIT } from './install.js';

interface UsroverlayOptions {
  hotfix?: boolean;
  unchangedExit77?: boolean;
}

export function register(program: Command): void {
  program
    .command('usroverlay')
    .description('make /usr of the booted deployment writable until the next boot (ostree admin unlock), for debugging')
    .option('--hotfix', 'keep the changes across reboots of this deployment (ostree admin unlock --hotfix)')
    .option('--unchanged-exit-77', 'exit with status 77 when /usr is unlocked already')
    .action(async (opts: UsroverlayOptions, command: Command) => {
      const out = contextOf(command);
      requireRoot('deblayer usroverlay');
      // ostree unlocks the booted deployment only: an offline sysroot has none.
      if (out.options.sysroot !== '/' || !existsSync('/run/ostree-booted')) {
        throw new DeblayerError(`usroverlay unlocks /usr of the booted OSTree deployment, and ${out.options.sysroot === '/' ? 'this machine is not booted into one (no /run/ostree-booted)' : `${out.options.sysroot} is an offline sysroot`}`);
      }
      const { OstreeSysroot } = await import('../exec/ostree.js');
      const sysroot = new OstreeSysroot('/');
      const booted = (await sysroot.deployments()).find((d) => d.booted);
      if (booted?.unlocked) {
        out.result(`/usr is unlocked already (${booted.unlocked}).`);
        if (opts.unchangedExit77) process.exitCode = UNCHANGED_EXIT;
        return;
      }
      await sysroot.unlock(opts.hotfix ? 'hotfix' : 'development');
      out.result(
        opts.hotfix
          ? 'Hotfix mode: /usr is writable, and what changes there is kept across reboots of this deployment.'
          : 'Development mode: /usr is writable (an overlayfs) until the next boot, which discards what changed there.',
      );
    });
}
