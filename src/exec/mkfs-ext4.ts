// mkfs.ext4 from e2fsprogs: the only place that spawns it. The root file
// system of an image is made straight from a directory (-d) at its offset in
// the image file, since loop devices cannot be mounted where deblayer runs;
// mke2fs keeps hardlinks, which a deployment's checkout is made of.

import { run } from './run.js';

export interface Ext4Spec {
  image: string;
  /** Byte offset of the partition in the image. */
  offset: number;
  /** Size of the file system in bytes. */
  size: number;
  label: string;
  /** Directory whose content the file system starts with. */
  from: string;
}

export async function mkfsExt4(spec: Ext4Spec): Promise<void> {
  const blocks = Math.floor(spec.size / 4096);
  await run(
    'mkfs.ext4',
    [
      '-F',
      '-q',
      '-b', '4096',
      '-L', spec.label,
      // GRUB 2.06 (Debian 12) cannot read a file system with these features.
      '-O', '^metadata_csum_seed,^orphan_file',
      // nodiscard: discarding would punch holes in the image before the offset's partition, the ESP included.
      '-E', `offset=${spec.offset},nodiscard`,
      '-d', spec.from,
      spec.image,
      String(blocks),
    ],
    `cannot make the root file system of ${spec.image} from ${spec.from}`,
    { env: { LC_ALL: 'C' } },
  );
}
