// The one helper the program wrappers in this folder use to run a command:
// stdin closed unless input is given, output collected, and a failure turned
// into a CommandError that names what was being done and ends with the tail of
// the command's stderr (the whole command line and output go to --verbose).
// Only the modules in src/exec call it; each builds its own program's argv.

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
  // Loaded on first use: execa's module graph is a start-up cost that the deb
  // commands (they run no program but xz) should not pay.
  const { execa } = await import('execa');
  const traced = traceCommand(program, args);
  const child = execa(program, args, {
    reject: false,
    env: options.env,
    extendEnv: true,
    cwd: options.cwd,
    stripFinalNewline: false,
    encoding: options.binary ? 'buffer' : 'utf8',
    ...(options.input !== undefined ? { input: options.input } : { stdin: 'ignore' }),
    maxBuffer: 1024 * 1024 * 1024,
  });
  if (options.onLine) {
    const onLine = options.onLine;
    for (const [stream, name] of [
      [child.stdout, 'stdout'],
      [child.stderr, 'stderr'],
    ] as const) {
      let pending = '';
      stream?.on('data', (chunk: Buffer) => {
        pending += chunk.toString('utf8');
        const lines = pending.split(/\r?\n|\r/);
        pending = lines.pop()!;
        for (const l of lines) onLine(l, name);
      });
    }
  }
  const result = await child;
  traced();
  const bytes = (v: unknown) => (v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : Buffer.from(String(v ?? '')));
  const stdoutBytes = bytes(result.stdout);
  const stderr = bytes(result.stderr).toString('utf8');
  const out: RunResult = {
    exitCode: result.exitCode ?? -1,
    stdout: options.binary ? '' : stdoutBytes.toString('utf8'),
    stdoutBytes,
    stderr,
    command: result.command,
  };
  if (result.failed && !options.allowFailure) {
    const why = result.exitCode === undefined ? result.shortMessage : tail(stderr) || tail(out.stdout) || `exit status ${result.exitCode}`;
    throw new CommandError(program, `${what}: ${why}`, {
      detail: `command: ${result.command}\n${stderr}`,
    });
  }
  if (result.exitCode === undefined && !options.allowFailure) {
    throw new CommandError(program, `${what}: ${result.shortMessage}`);
  }
  return out;
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

/**
 * A long-lived helper spoken to in lines (a batch of work done in one process,
 * so one ostree transaction, instead of a process per item).
 */
export async function startLineProcess(program: string, args: string[], what: string, options: { env?: Record<string, string> } = {}): Promise<LineProcess> {
  const { execa } = await import('execa');
  const traced = traceCommand(program, args);
  const child = execa(program, args, { reject: false, env: options.env, extendEnv: true, stdin: 'pipe', stdout: 'pipe', stderr: 'pipe', maxBuffer: 1 << 30 });
  const lines = new LineQueue(child.stdout!);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const failure = (exitCode: number | undefined, message?: string) =>
    new CommandError(program, `${what}: ${tail(stderr) || message || `exit status ${exitCode}`}`, { detail: `command: ${program} ${args.join(' ')}\n${stderr}` });
  return lineProcessOf({
    input: child.stdin!,
    lines,
    failed: child.then((result) => {
      traced();
      return result.exitCode === 0 ? undefined : failure(result.exitCode, result.shortMessage);
    }),
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
