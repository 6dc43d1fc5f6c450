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
