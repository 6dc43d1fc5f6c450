// Debian's python3: the only place that spawns it. deblayer uses two of
// Debian's bindings through it, libostree (gir1.2-ostree-1.0 with python3-gi,
// in src/exec/libostree.ts) and libapt (python3-apt, in src/exec/apt.ts), and
// its lzma module (liblzma, in src/exec/lzma.ts); each of those modules owns
// its scripts, this one only starts the interpreter.

import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { startLineProcess, type LineProcess } from './run.js';

// /usr/bin/python3, not the first python3 on PATH: the bindings are Debian's.
const PYTHON = '/usr/bin/python3';

/** Starts SCRIPT as a helper spoken to in lines. */
export function startPython(script: string, args: string[], what: string, env?: Record<string, string>): Promise<LineProcess> {
  return startLineProcess(PYTHON, ['-c', script, ...args], what, env ? { env } : {});
}

/**
 * Starts SCRIPT with raw pipes, for a helper that speaks bytes rather than
 * lines. node:child_process rather than execa: the caller (the .deb reader)
 * runs in commands that otherwise never load execa's module graph.
 */
export function spawnPython(script: string, args: string[]): ChildProcessByStdio<Writable, Readable, Readable> {
  return spawn(PYTHON, ['-c', script, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
}
