// cp(1) from coreutils: the only place that spawns it. A whole tree copied with
// every attribute (owners, modes, xattrs, hardlinks, sparse files), which Node's
// fs.cp does not keep.

import { run } from './run.js';
import type { MountNamespace } from './namespace.js';

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

/**
 * Copies SOURCES (files or whole directories) into the directory DEST, every
 * attribute kept, run in NS when given (where DEST is mounted writable). An
 * existing file is unlinked before the copy, never written in place: a
 * program running from it keeps its old inode.
 */
export async function copyReplacing(sources: string[], dest: string, ns?: MountNamespace): Promise<void> {
  const args = ['--archive', '--remove-destination', '--target-directory', dest, '--', ...sources];
  const what = `cannot copy ${sources.length === 1 ? sources[0] : `${sources.length} files`} into ${dest}`;
  await (ns ? ns.run('cp', args, what) : run('cp', args, what));
}
