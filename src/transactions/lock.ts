// One transaction at a time on a stateroot: a lock file next to the layer
// database holding the owner's pid. A second deblayer fails at once, naming
// the pid; a lock left by a process that no longer exists (killed, crashed)
// is taken over. ostree's own sysroot lock still guards each ostree call.

import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { DeblayerError, EXIT } from '../errors.js';
import { processRuns } from '../processes.js';

export class LockedError extends DeblayerError {
  constructor(message: string) {
    super(message, { exitCode: EXIT.locked });
  }
}

/** Takes the lock at PATH, or throws LockedError; returns the function that releases it. */
export function takeLock(path: string, what: string): () => void {
  mkdirSync(dirname(path), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: 'wx', mode: 0o644 });
      const release = () => {
        try {
          if (readFileSync(path, 'utf8').trim() === String(process.pid)) rmSync(path, { force: true });
        } catch {
          // already gone
        }
      };
      process.once('exit', release);
      return release;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(readFileSync(path, 'utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && processRuns(owner)) {
        throw new LockedError(`another deblayer transaction (pid ${owner}) is running on ${what}: wait for it to finish`);
      }
      rmSync(path, { force: true }); // left by a process that is gone
    }
  }
  throw new LockedError(`cannot take the lock ${path}`);
}
