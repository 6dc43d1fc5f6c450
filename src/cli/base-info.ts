// deblayer base info [REF]: what a base commit is and what it has installed.

import { join } from 'node:path';
import type { Command } from 'commander';
import { contextOf } from './context.js';

export function register(base: Command): void {
  base
    .command('info')
    .description("show a base's os-release, installed packages and where its dpkg database is")
    .argument('[ref]', 'ref or commit in --repo (default: the booted or default deployment of --sysroot)')
    .option('--packages', 'also list the installed packages')
    .action(async (ref: string | undefined, opts: { packages?: boolean }, command: Command) => {
      const out = contextOf(command);
      const [{ CommitCache }, { describeOs }, { installedPackages, readBaseContents, selectBase }] = await Promise.all([
        import('../base/commit-cache.js'),
        import('../base/os-release.js'),
        import('../base/select.js'),
      ]);
      const cache = new CommitCache(join(out.options.cacheDir, 'bases'));
      const selected = await selectBase({ ...out.options, cache, ...(ref !== undefined ? { base: ref } : {}) });
      const contents = await readBaseContents(selected);
      const installed = installedPackages(contents);
      // What base import found when it checked the kernel and initramfs; other commits were never checked.
      const bootable = typeof selected.info.metadata['deblayer.bootable'] === 'string' ? (selected.info.metadata['deblayer.bootable'] as string) : undefined;
      if (out.json) {
        out.data({
          base: selected.label,
          commit: selected.commit,
          repo: selected.repo.path,
          date: selected.info.date,
          subject: selected.info.subject,
          version: selected.info.metadata['version'] ?? null,
          osRelease: contents.osRelease,
          dpkgDatabase: { path: `/${contents.database.path}`, foundBy: contents.database.foundBy },
          architectures: contents.architectures,
          packageCount: installed.length,
          bootable: bootable === undefined ? null : bootable === 'yes',
          ...(bootable !== undefined && bootable !== 'yes' ? { bootProblems: bootable.replace(/^no: /, '').split('; ') } : {}),
          ...(opts.packages
            ? { packages: installed.map((p) => ({ name: p.package, version: p.version, architecture: p.architecture })) }
            : {}),
        });
        return;
      }
      out.result(`Base: ${selected.label}`);
      out.result(`  Commit:        ${selected.commit}`);
      out.result(`  Date:          ${selected.info.date}`);
      out.result(`  OS:            ${describeOs(contents.osRelease)}`);
      out.result(`  Version:       ${String(selected.info.metadata['version'] ?? contents.osRelease.VERSION_ID ?? 'unknown')}`);
      out.result(`  Packages:      ${installed.length} installed`);
      out.result(`  dpkg database: /${contents.database.path} (found by ${contents.database.foundBy})`);
      out.result(`  Architectures: ${contents.architectures.join(' ')}`);
      out.result(`  Bootable:      ${bootable ?? 'not checked (not imported by deblayer)'}`);
      if (opts.packages) {
        for (const p of installed) out.result(`  ${p.package} ${p.version} ${p.architecture}`);
      }
    });
}
