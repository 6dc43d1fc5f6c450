// deblayer base import ROOTFS --branch REF: a Debian tree becomes an OSTree base commit.

import type { Command } from 'commander';
import type { ImportStep } from '../base/import.js';
import { UsageError } from '../errors.js';
import { contextOf, repoPath } from './context.js';

const STEP_TEXT: Record<ImportStep, string> = {
  copy: 'Copying the tree',
  layout: 'Rearranging it for OSTree (/usr/etc, dpkg database in /usr, /var as tmpfiles.d)',
  check: 'Checking that it can boot (a kernel, an initramfs with ostree-prepare-root)',
  commit: 'Committing',
};

export function sourceDateEpoch(): number | undefined {
  const value = process.env.SOURCE_DATE_EPOCH;
  if (value === undefined || value === '') return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError(`SOURCE_DATE_EPOCH must be a number of seconds, not '${value}'`);
  return Number(value);
}

export function register(base: Command): void {
  base
    .command('import')
    .description('import a Debian root filesystem (directory or tarball) as an OSTree base commit')
    .argument('<rootfs>', 'directory made by debootstrap or mmdebstrap, or a tarball of one')
    .requiredOption('-b, --branch <ref>', 'branch (ref) to commit to; its current commit becomes the parent')
    .option('--dpkg-database <path>', 'where the dpkg database goes in the commit', 'usr/lib/sysimage/dpkg')
    .option('--no-kernel', 'accept a tree without a kernel (a base only layered on, never booted)')
    .action(async (rootfs: string, opts: { branch: string; dpkgDatabase: string; kernel: boolean }, command: Command) => {
      const out = contextOf(command);
      const timestamp = sourceDateEpoch();
      const { importBase } = await import('../base/import.js');
      const result = await importBase({
        source: rootfs,
        repo: repoPath(out.options),
        branch: opts.branch,
        dpkgDatabase: opts.dpkgDatabase,
        noKernel: !opts.kernel,
        ...(timestamp !== undefined ? { timestamp } : {}),
        onStart: (step) => out.info(`${STEP_TEXT[step]}...`),
        onStep: (step, seconds) => out.verbose(`  ${step}: ${seconds.toFixed(2)} s`),
      });
      if (result.layout.kernelVersion && result.boot.problems.length > 0) out.warn(`this base cannot boot: ${result.boot.problems.join('; ')}`);
      if (out.json) {
        out.data({
          commit: result.commit,
          parent: result.parent ?? null,
          branch: result.branch,
          repo: result.repo,
          createdRepo: result.createdRepo,
          version: result.version,
          osRelease: result.os,
          packages: result.packages,
          dpkgDatabase: `/${result.layout.dpkgDatabase}`,
          kernel: result.layout.kernelVersion ?? null,
          bootable: result.boot.problems.length === 0,
          bootProblems: result.boot.problems,
          tmpfilesLines: result.layout.tmpfiles.length,
          dropped: result.layout.dropped,
        });
        return;
      }
      if (result.createdRepo) out.info(`Created repository ${result.repo}`);
      if (result.layout.dropped.length > 0) {
        out.info(`Left out of the commit (caches, logs, /boot files ostree manages): ${result.layout.dropped.length} files`);
        for (const d of result.layout.dropped) out.verbose(`  /${d}`);
      }
      if (!result.layout.kernelVersion) out.info('No kernel in the tree: this base can be layered on but not deployed');
      out.result(`Imported ${result.os.PRETTY_NAME ?? 'the tree'} as ${result.branch}`);
      out.result(`  commit:   ${result.commit}`);
      out.result(`  parent:   ${result.parent ?? '(none: first commit on the branch)'}`);
      out.result(`  version:  ${result.version}`);
      out.result(`  packages: ${result.packages} (dpkg database in /${result.layout.dpkgDatabase})`);
      out.result(`  kernel:   ${result.layout.kernelVersion ?? 'none'}${result.layout.kernelVersion && result.boot.problems.length === 0 ? ' (bootable: initramfs with ostree-prepare-root)' : ''}`);
    });
}
