// The one helper the program wrappers in this folder use to run a command:
// stdin closed unless input is given, output collected, and a failure turned
// into a CommandError that names what was being done and ends with the tail of
// the command's stderr (the whole command line and output go to --verbose).
// Only the modules in src/exec call it; each builds its own program's argv.

import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { traceCommand } from './trace.js';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { CommandError, DeblayerError } from '../errors.js';

export interface RunOptions {
  env?: Record<string, string>;
  cwd?: string;
  input?: string | Buffer;
  /** Called for each line of stdout/stderr as it arrives (progress). */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Return the result instead of throwing when the command exits non-zero. */
  allowFailure?: boolean;
  /** Return stdout as bytes (file contents) instead of text. */
  binary?: boolean;
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  stdoutBytes: Buffer;
  stderr: string;
  command: string;
}

const TAIL_LINES = 3;

/** The last meaningful lines of a command's error output, joined for a one-line message. */
export function tail(text: string, lines = TAIL_LINES): string {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .slice(-lines)
    .join(' / ');
}

export async function run(program: string, args: string[], what: string, options: RunOptions = {}): Promise<RunResult> {
  const traced = traceCommand(program, args);
  const result = await collect(program, args, options);
  traced();
  const stderr = result.stderr.toString('utf8');
  const out: RunResult = {
    exitCode: result.exitCode ?? -1,
    stdout: options.binary ? '' : result.stdout.toString('utf8'),
    stdoutBytes: result.stdout,
    stderr,
    command: result.command,
  };
  if (result.exitCode === undefined) {
    if (options.allowFailure) return out;
    throw new CommandError(program, `${what}: ${result.shortMessage}`, { detail: `command: ${result.command}\n${stderr}` });
  }
  if (result.exitCode !== 0 && !options.allowFailure) {
    const why = tail(stderr) || tail(out.stdout) || `exit status ${result.exitCode}`;
    throw new CommandError(program, `${what}: ${why}`, {
      detail: `command: ${result.command}\n${stderr}`,
    });
  }
  return out;
}

/** Beyond this much output on one stream the program is ended and the run fails (execa's maxBuffer, as run() had it). */
const MAX_OUTPUT = 1024 * 1024 * 1024;

interface Collected {
  /** Undefined when the program did not exit by itself: not started, killed by a signal, too much output. */
  exitCode: number | undefined;
  stdout: Buffer;
  stderr: Buffer;
  command: string;
  /** Why there is no exit code, in execa's words ("Command failed with ENOENT: ..."). */
  shortMessage: string;
}

/**
 * Runs a program to its end with its output collected as bytes, on
 * node:child_process: execa's module graph takes longer to load than Node
 * takes to start, and every command that runs a program paid for it.
 */
function collect(program: string, args: string[], options: RunOptions): Promise<Collected> {
  const command = [program, ...args].join(' ');
  const child = spawn(program, args, {
    env: { ...process.env, ...options.env },
    ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
    stdio: [options.input !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  let tooMuch: string | undefined;
  const gather = (stream: Readable, name: 'stdout' | 'stderr') => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_OUTPUT && !tooMuch) {
        tooMuch = `Command's ${name} was larger than ${MAX_OUTPUT} bytes: ${command}`;
        child.kill('SIGTERM');
      }
      if (!tooMuch) chunks.push(chunk);
    });
    if (options.onLine) forwardLines(stream, name, options.onLine);
    return chunks;
  };
  const stdout = gather(child.stdout!, 'stdout');
  const stderr = gather(child.stderr!, 'stderr');
  if (options.input !== undefined) {
    // A program that exits without reading its input closes the pipe: its exit status says what happened.
    child.stdin!.on('error', () => {});
    child.stdin!.end(options.input);
  }
  return new Promise((resolve) => {
    const done = (exitCode: number | undefined, shortMessage: string) =>
      resolve({ exitCode, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr), command, shortMessage });
    child.once('error', (err: NodeJS.ErrnoException) => {
      // Not started (ENOENT, EACCES): no 'close' follows that carries a status.
      if (child.pid === undefined) done(undefined, `Command failed with ${err.code ?? 'an error'}: ${command}\n${err.message}`);
    });
    child.once('close', (code, signal) => {
      if (child.pid === undefined) return;
      if (tooMuch) done(undefined, tooMuch);
      else if (code === null) done(undefined, `Command was killed with ${signal}: ${command}`);
      else done(code, '');
    });
  });
}

function forwardLines(stream: Readable, name: 'stdout' | 'stderr', onLine: NonNullable<RunOptions['onLine']>): void {
  let pending = '';
  stream.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    const lines = pending.split(/\r?\n|\r/);
    pending = lines.pop()!;
    for (const l of lines) onLine(l, name);
  });
}

export interface LineProcess {
  /** Writes one line to the process's stdin. */
  send(line: string): void;
  /** Resolves with the next line the process writes to stdout, in order. */
  nextLine(): Promise<string>;
  /** Closes stdin and waits for the process to exit; a non-zero exit throws. */
  finish(): Promise<void>;
  /** Ends the process at once (an error elsewhere). */
  kill(): void;
  /**
   * Whether the process keeps Node running: an idle helper shared by a whole
   * run is let go of (false), so that Node exits when its work is done, and
   * its stdin closing then ends the helper too.
   */
  hold(on: boolean): void;
}

/**
 * The lines a helper writes to STREAM, handed out in order. Once no more can
 * come (the helper ended), `end` gives the error that a wait for a line that
 * never came rejects with; lines received before are still handed out.
 */
export class LineQueue {
  private readonly lines: string[] = [];
  private readonly waiting: { resolve: (l: string) => void; reject: (e: Error) => void }[] = [];
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';
  private ended: Error | undefined;

  constructor(stream: Readable) {
    stream.on('data', (chunk: Buffer) => {
      this.pending += this.decoder.write(chunk);
      const parts = this.pending.split('\n');
      this.pending = parts.pop()!;
      for (const l of parts) {
        const w = this.waiting.shift();
        if (w) w.resolve(l);
        else this.lines.push(l);
      }
    });
  }

  next(): Promise<string> {
    const l = this.lines.shift();
    if (l !== undefined) return Promise.resolve(l);
    if (this.ended) return Promise.reject(this.ended);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  end(err: Error): void {
    this.ended = err;
    for (const w of this.waiting.splice(0)) w.reject(err);
  }
}

/** spawn(), with the program on DEBLAYER_TRACE's timeline from its start to its close. */
export const spawnTraced = ((program: string, args: readonly string[], options: SpawnOptions) => {
  const traced = traceCommand(program, args);
  const child = spawn(program, args, options);
  child.once('close', traced);
  return child;
}) as typeof spawn;

/**
 * Ends CHILD when Node exits, as execa does for the programs it runs: a helper
 * started ahead and never used (libapt's, when a request is refused before
 * resolution) would otherwise go on opening apt's cache, and writing it into
 * the cache directory, after deblayer has exited.
 */
export function endWithNode(child: ChildProcess): void {
  const cleanup = () => child.kill('SIGTERM');
  process.on('exit', cleanup);
  child.once('close', () => process.off('exit', cleanup));
}

/**
 * A long-lived helper spoken to in lines (a batch of work done in one process,
 * so one ostree transaction, instead of a process per item).
 */
export async function startLineProcess(program: string, args: string[], what: string, options: { env?: Record<string, string> } = {}): Promise<LineProcess> {
  // node:child_process, not execa: a helper started early (libapt's) would wait for execa's module graph to load.
  const child = spawnTraced(program, args, { env: { ...process.env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
  endWithNode(child);
  const lines = new LineQueue(child.stdout);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const failure = (exitCode: number | undefined, message?: string) =>
    new CommandError(program, `${what}: ${tail(stderr) || message || `exit status ${exitCode}`}`, { detail: `command: ${program} ${args.join(' ')}\n${stderr}` });
  const failed = new Promise<CommandError | undefined>((resolve) => {
    child.once('error', (err: NodeJS.ErrnoException) => {
      if (child.pid === undefined) resolve(failure(undefined, `cannot start ${program}: ${err.code ?? err.message}`));
    });
    child.once('close', (code, signal) => {
      if (child.pid === undefined) return;
      resolve(code === 0 ? undefined : failure(code ?? undefined, signal ? `killed with ${signal}` : undefined));
    });
  });
  return lineProcessOf({
    input: child.stdin,
    lines,
    failed,
    ended: new CommandError(program, `${what}: ended before its work was done`),
    kill: () => child.kill('SIGTERM'),
    handles: [child, child.stdout, child.stderr, child.stdin],
  });
}

export interface LineChannel {
  /** Where request lines go; ending it asks the helper to finish. */
  input: Writable;
  /** The reply lines. */
  lines: LineQueue;
  /** Settles when the helper has exited: with its failure, or undefined when it exited 0. */
  failed: Promise<CommandError | undefined>;
  /** What a wait for a reply rejects with when the helper exited 0 before giving it. */
  ended: CommandError;
  kill: () => void;
  /** What keeps Node running while the helper is held: the process and its streams. */
  handles: unknown[];
}

/** The LineProcess over a started helper, however its lines travel (stdin and stdout, or a channel of its own). */
export function lineProcessOf(c: LineChannel): LineProcess {
  void c.failed.then((f) => c.lines.end(f ?? c.ended));
  // A write after the process died is reported through nextLine/finish.
  c.input.on('error', () => {});
  return {
    send(line) {
      c.input.write(`${line}\n`);
    },
    nextLine() {
      return c.lines.next();
    },
    async finish() {
      c.input.end();
      const f = await c.failed;
      if (f) throw f;
    },
    kill: c.kill,
    hold(on) {
      for (const h of c.handles as ({ ref?(): void; unref?(): void } | null | undefined)[]) {
        if (on) h?.ref?.();
        else h?.unref?.();
      }
    },
  };
}

/**
 * Checks that each program is on PATH before a long operation starts, naming
 * the Debian package of the first that is not (PROGRAMS: [program, package]).
 */
export function requirePrograms(programs: [string, string][]): void {
  const dirs = (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':').filter((d) => d !== '');
  for (const [program, pkg] of programs) {
    const found = dirs.some((d) => {
      try {
        accessSync(join(d, program), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
    if (!found) throw new DeblayerError(`${program} is not installed: apt-get install ${pkg}`);
  }
}
