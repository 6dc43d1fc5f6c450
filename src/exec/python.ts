// Debian's python3: the only place that spawns it. deblayer uses two of
// Debian's bindings through it, libostree (gir1.2-ostree-1.0 with python3-gi,
// in src/exec/libostree.ts) and libapt (python3-apt, in src/exec/apt.ts), and
// its lzma module (liblzma, in src/exec/lzma.ts). The programs are the .py
// files of the package's python/ folder; each of those modules names its own,
// this one only starts the interpreter, in one of three ways: spoken to in
// lines on stdin and stdout, on a channel of its own (fd 3), or raw pipes.

import type { ChildProcessByStdio } from 'node:child_process';
import type { Duplex, Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { CommandError } from '../errors.js';
import { endWithNode, lineProcessOf, LineQueue, spawnTraced, startLineProcess, tail, type LineProcess } from './run.js';

// /usr/bin/python3, not the first python3 on PATH: the bindings are Debian's.
const PYTHON = '/usr/bin/python3';

/**
 * The interpreter's arguments for PROGRAM, a path in python/ (two levels up
 * from src/exec and from dist/exec alike). -B: no __pycache__ is written
 * beside the programs (a host's /usr is read-only; a checkout keeps sources).
 */
function programArgs(program: string, args: string[]): string[] {
  return ['-B', fileURLToPath(new URL(`../../python/${program}`, import.meta.url)), ...args];
}

/** Starts PROGRAM as a helper spoken to in lines on its stdin and stdout. */
export function startPython(program: string, args: string[], what: string, env?: Record<string, string>): Promise<LineProcess> {
  return startLineProcess(PYTHON, programArgs(program, args), what, env ? { env } : {});
}

/**
 * Starts PROGRAM with raw pipes, for a helper that speaks bytes rather than
 * lines. node:child_process rather than execa: the caller (the .deb reader)
 * runs in commands that otherwise never load execa's module graph.
 */
export function spawnPython(program: string, args: string[]): ChildProcessByStdio<Writable, Readable, Readable> {
  return spawnTraced(PYTHON, programArgs(program, args), { stdio: ['pipe', 'pipe', 'pipe'] });
}

/**
 * Starts PROGRAM as a helper spoken to in lines on fd 3, a socket of its own
 * (python/channel.py), for programs that use libostree: it prints to the
 * process's stdout from C, which would corrupt replies read from stdout.
 * stdin is /dev/null; stdout and stderr are kept as the helper's log, whose
 * tail explains a failure. Closing the channel (finish) asks it to end.
 */
export async function startPythonChannel(program: string, args: string[], what: string): Promise<LineProcess> {
  const argv = programArgs(program, args);
  const child = spawnTraced(PYTHON, argv, { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
  const channel = child.stdio[3] as Duplex;
  const lines = new LineQueue(channel);
  let log = '';
  for (const stream of [child.stdout!, child.stderr!]) {
    stream.setEncoding('utf8').on('data', (d: string) => {
      log += d;
    });
  }
  const failure = (why: string) => new CommandError(PYTHON, `${what}: ${tail(log) || why}`, { detail: `command: ${PYTHON} ${argv.join(' ')}\n${log}` });
  let spawnError: Error | undefined;
  child.on('error', (err) => {
    spawnError = err;
  });
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  const why = (r: { code: number | null; signal: NodeJS.Signals | null }) => spawnError?.message ?? (r.signal ? `killed by ${r.signal}` : `exit status ${r.code}`);
  endWithNode(child);
  return lineProcessOf({
    input: channel,
    lines,
    failed: closed.then((r) => (r.code === 0 ? undefined : failure(why(r)))),
    ended: new CommandError(PYTHON, `${what}: ended before its work was done`),
    kill: () => child.kill('SIGTERM'),
    handles: [child, child.stdout, child.stderr, channel],
  });
}
