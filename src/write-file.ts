// Writing a file that readers may open at any moment: the text goes to a
// name of this process's own beside it, then takes the path in one rename,
// so a reader sees the old file or the new one, never half of one, and two
// deblayer processes writing the same file do not interleave.

import { renameSync, writeFileSync } from 'node:fs';

export function writeAtomically(path: string, data: string | Buffer): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}
