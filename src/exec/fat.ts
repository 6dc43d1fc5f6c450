// mkfs.vfat (dosfstools) and mtools' mmd and mcopy: the only place that spawns
// them. The EFI system partition is made and filled inside the image file at
// its offset ("IMAGE@@OFFSET" for mtools), with no mount.

import { run } from './run.js';

export interface FatSpec {
  image: string;
  /** Byte offset of the partition in the image (a multiple of 512). */
  offset: number;
  size: number;
  label: string;
}

export async function mkfsVfat(spec: FatSpec): Promise<void> {
  // One sector a cluster: mkfs.fat sizes clusters by the whole image file, and
  // on a large image leaves a small ESP with fewer clusters than FAT32 allows.
  await run(
    'mkfs.vfat',
    ['-F', '32', '-s', '1', '-n', spec.label, `--offset=${spec.offset / 512}`, spec.image, String(Math.floor(spec.size / 1024))],
    `cannot make the EFI system partition of ${spec.image}`,
  );
}

/** Copies FILE to PATH (directories made as needed) in the FAT file system at SPEC's offset. */
export async function fatCopy(spec: FatSpec, file: string, path: string): Promise<void> {
  const target = `${spec.image}@@${spec.offset}`;
  const env = { MTOOLS_SKIP_CHECK: '1', LC_ALL: 'C' };
  const dirs = path.split('/').slice(0, -1);
  for (let i = 1; i <= dirs.length; i++) {
    const dir = dirs.slice(0, i).join('/');
    const exists = await run('mdir', ['-b', '-i', target, `::${dir}`], `cannot list ::${dir}`, { env, allowFailure: true });
    if (exists.exitCode !== 0) await run('mmd', ['-i', target, `::${dir}`], `cannot make ${dir} on the EFI system partition`, { env });
  }
  await run('mcopy', ['-o', '-i', target, file, `::${path}`], `cannot copy ${file} to ${path} on the EFI system partition`, { env });
}
