// Reading a text file that may be absent: a missing file reads as empty (a
// tree without /etc/shadow names nobody in it), any other failure is an error,
// never taken for an empty file.

import { readFileSync } from 'node:fs';

export function readTextIfPresent(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
}
