// mkfs.erofs(1) (erofs-utils) and mksquashfs(1) (squashfs-tools): the only
// place that builds their command lines. Both make a read-only file system
// image of a directory, owners, modes and xattrs kept, which systemd-sysext
// mounts as it is (a plain file system image, no partition table).

import { requirePrograms, run } from './run.js';

export type ImageFormat = 'erofs' | 'squashfs';

const PROGRAMS: Record<ImageFormat, [string, string]> = {
  erofs: ['mkfs.erofs', 'erofs-utils'],
  squashfs: ['mksquashfs', 'squashfs-tools'],
};

/** Before a long build: the packing program is installed, or the error names its package. */
export function requireImageTool(format: ImageFormat): void {
  requirePrograms([PROGRAMS[format]]);
}

/** Packs DIR into the image file OUTPUT (which must not exist). */
export async function makeImage(format: ImageFormat, dir: string, output: string): Promise<void> {
  requireImageTool(format);
  if (format === 'erofs') {
    await run('mkfs.erofs', ['--quiet', '-zlz4hc', output, dir], `cannot make an erofs image of ${dir}`);
  } else {
    await run('mksquashfs', [dir, output, '-quiet', '-no-progress', '-noappend', '-comp', 'xz'], `cannot make a squashfs image of ${dir}`);
  }
}
