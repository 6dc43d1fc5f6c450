// Reading a file that may be absent (its text, or its lstat): a missing file reads as empty (a
// tree without /etc/shadow names nobody in it), any other failure is an error,
// never taken for an empty file.

import { lstatSync, readFileSync, type Stats } from 'node:fs';

export function readTextIfPresent(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
}

/** A path's lstat, or undefined when it cannot be read (absent, or a parent is not a directory). */
export function lstatIfPresent(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}
