// tar(1) (GNU tar): the only place that spawns it. Used to unpack a root
// filesystem given as a tarball, keeping numeric owners, modes and xattrs as
// the tarball has them (we run as root, as an image build does). GNU tar
// detects the compression itself.

import { run } from './run.js';

export async function extractTarball(file: string, dest: string): Promise<void> {
  await run(
    'tar',
    ['--extract', `--file=${file}`, `--directory=${dest}`, '--numeric-owner', '--same-owner', '--same-permissions', '--xattrs', '--xattrs-include=*'],
    `cannot unpack ${file}`,
  );
}

/** A gzip'd tarball of DIR's contents, with numeric owners and xattrs (what extractTarball restores). */
export async function createTarball(dir: string, file: string): Promise<void> {
  await run(
    'tar',
    ['--create', '--gzip', `--file=${file}`, `--directory=${dir}`, '--numeric-owner', '--xattrs', '--xattrs-include=*', '--sort=name', '.'],
    `cannot write ${file}`,
  );
}
