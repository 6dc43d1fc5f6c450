// Debian's python3: the only place that spawns it. deblayer uses two of
// Debian's bindings through it, libostree (gir1.2-ostree-1.0 with python3-gi,
// in src/exec/libostree.ts) and libapt (python3-apt, in src/exec/apt.ts); each
// of those modules owns its scripts, this one only starts the interpreter.

import { startLineProcess, type LineProcess } from './run.js';

// /usr/bin/python3, not the first python3 on PATH: the bindings are Debian's.
const PYTHON = '/usr/bin/python3';

/** Starts SCRIPT as a helper spoken to in lines. */
export function startPython(script: string, args: string[], what: string, env?: Record<string, string>): Promise<LineProcess> {
  return startLineProcess(PYTHON, ['-c', script, ...args], what, env ? { env } : {});
}
