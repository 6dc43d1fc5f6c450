// cp(1) from coreutils: the only place that spawns it. A whole tree copied with
// every attribute (owners, modes, xattrs, hardlinks, sparse files), which Node's
// fs.cp does not keep.

import { run } from './run.js';

/**
 * Copies SRC's contents into DEST (which must exist). With `hardlinks`, files
 * become new names of the same inodes: only safe when the copy's files are
 * never written in place, only renamed, unlinked or replaced.
 */
export async function copyTree(src: string, dest: string, options: { hardlinks: boolean }): Promise<void> {
  const args = ['--archive', '--no-target-directory'];
  if (options.hardlinks) args.push('--link');
  await run('cp', [...args, `${src}/.`, dest], `cannot copy ${src}`);
}
