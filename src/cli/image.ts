// deblayer image REF -o disk.img: a raw disk image that a firmware boots, one commit deployed.

import { Option, type Command } from 'commander';
import type { Origin } from '../deploy/origin.js';
import { requireRoot, UsageError } from '../errors.js';
import { formatSize, parseSize } from '../image/disk-layout.js';
import type { ImageStep } from '../image/image.js';
import { contextOf, repoPath } from './context.js';
import { stopwatch } from '../steps.js';

const STEP_TEXT: Record<ImageStep, string> = {
  sysroot: 'Making a fresh sysroot and copying the commit into it',
  deploy: 'Deploying it',
  bootloader: 'Checking the kernel and initramfs, building GRUB for the EFI system partition',
  filesystems: 'Writing the partition table and file systems',
};

export function register(program: Command): void {
  program
    .command('image')
    .description('write a disk image that boots REF: a fresh sysroot with only its commit deployed, GRUB on an EFI system partition')
    .argument('[ref]', "ref or commit in the repository (--repo): a base, a layer state such as deblayer/state/3, or a layer manifest (NAME.layer) for its branch; default: what the sysroot (--sysroot) boots next")
    .requiredOption('-o, --output <file>', 'the raw disk image to write')
    .addOption(new Option('--size <size>', 'size of the image (e.g. 4G); default: the tree and about as much room again'))
    .addOption(new Option('--remote <name=url>', 'the remote the booted machine upgrades from (deblayer upgrade pulls from it)'))
    .addOption(new Option('--karg <arg>', 'a kernel argument (repeat for more); root=LABEL=deblayer-root rw are always set').argParser((v: string, prev: string[] = []) => [...prev, v]))
    .action(async (ref: string | undefined, opts: { output: string; size?: string; remote?: string; karg?: string[] }, command: Command) => {
      const out = contextOf(command);
      requireRoot('deblayer image');
      let remote: { name: string; url: string } | undefined;
      if (opts.remote !== undefined) {
        const m = /^([A-Za-z0-9][\w.-]*)=(\S+)$/.exec(opts.remote);
        if (!m) throw new UsageError(`--remote wants NAME=URL, not '${opts.remote}'`);
        remote = { name: m[1]!, url: m[2]! };
      }
      const [{ nextDeployment, writeImage }, { readManifest }] = await Promise.all([import('../image/image.js'), import('../manifest/manifest.js')]);
      const elapsed = stopwatch();
      // A manifest names the branch compose commits to: one command line from manifest to disk.
      const named = ref !== undefined && ref.endsWith('.layer') ? readManifest(ref).branch : ref;
      const source: { repo: string; ref: string; origin?: Origin; stateroot?: string } = named !== undefined ? { repo: repoPath(out.options), ref: named } : await nextDeployment(out.options.sysroot, out.options.os);
      const result = await writeImage({
        repo: source.repo,
        ref: source.ref,
        ...(source.origin ? { origin: source.origin } : {}),
        output: opts.output,
        ...(opts.size !== undefined ? { size: parseSize(opts.size) } : {}),
        ...(remote ? { remote } : {}),
        kargs: opts.karg ?? [],
        stateroot: out.options.os ?? source.stateroot ?? 'debian',
        cacheDir: out.options.cacheDir,
        onStart: (step) => out.info(`${STEP_TEXT[step]}...`),
        onStep: (step, seconds) => out.verbose(`  ${step}: ${seconds.toFixed(2)} s`),
      });
      const seconds = elapsed();
      if (out.json) {
        out.data({
          image: result.output,
          size: result.size,
          commit: result.commit,
          baseCommit: result.baseCommit ?? null,
          refspec: result.origin.baseRefspec ?? null,
          requested: result.origin.requested,
          kernel: result.kernel,
          kargs: result.kargs,
          stateroot: result.stateroot,
          remote: remote ?? null,
          treeBytes: result.treeBytes,
          partitions: [result.layout.esp, result.layout.root].map((p) => ({ ...p })),
          seconds: Number(seconds.toFixed(2)),
        });
        return;
      }
      out.result(`Wrote ${result.output} (${formatSize(result.size)}, sparse) in ${seconds.toFixed(1)} s`);
      out.result(`  commit:     ${result.commit}${result.baseCommit ? ` (layered on ${result.baseCommit.slice(0, 10)})` : ''}`);
      out.result(`  upgrades:   ${result.origin.baseRefspec}${remote ? ` from ${remote.url}` : ''}`);
      if (result.origin.requested.length > 0) out.result(`  layered:    ${result.origin.requested.join(' ')}`);
      out.result(`  kernel:     ${result.kernel}`);
      out.result(`  kargs:      ${result.kargs.join(' ')}`);
      out.result(`  partitions: EFI system ${formatSize(result.layout.esp.size)} (GRUB), root ${formatSize(result.layout.root.size)} ext4 "${result.layout.root.label}" (tree ${formatSize(result.treeBytes)})`);
    });
}

