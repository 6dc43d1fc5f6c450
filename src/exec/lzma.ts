// liblzma through python3's lzma module, in helper processes that stay up for
// the whole run: the only place that runs it. It decodes the small .xz and
// .lzma members of .deb files (every control.tar.xz, most data.tar.xz); the
// large ones go to xz(1), which decodes a multi-block stream on every core
// (src/exec/xz.ts).
//
// Why not xz(1) for all: starting a program costs Node a fork of itself,
// which blocks its main thread, the longer the bigger Node has grown; an
// import of many packages spawned an xz per member, and its main thread was
// what the import waited for. A helper (python/lzma_decode.py) is started
// once per reader that runs at the same time (the import's two lanes: two
// helpers) and then decodes member after member.
//
// The helper reads the member from the file itself (pread of the byte range),
// so Node does not pipe the compressed bytes either. What it sends back is
// framed: 'D' + u32 length + bytes, then 'E' at the end of the member, or
// 'X' + u32 length + message when the data is corrupt or truncated. Memory
// stays bounded: at most one 256 KiB frame is decoded ahead, then the helper
// blocks on the pipe until Node's reader has taken it.

import type { ChildProcessByStdio } from 'node:child_process';
import { Readable, type Writable } from 'node:stream';
import { CommandError } from '../errors.js';
import { spawnPython } from './python.js';
import type { Decompression } from './xz.js';

export interface MemberRange {
  file: string;
  offset: number;
  size: number;
}

type Child = ChildProcessByStdio<Writable, Readable, Readable>;

/** What the helper is sending now: a member's bytes to a reader, until 'E' or 'X'. */
interface Current {
  output: Readable;
  resolve: () => void;
  reject: (err: Error) => void;
}

class Helper {
  private current: Current | undefined;
  /** Header bytes of a frame split across pipe reads. */
  private header = Buffer.alloc(0);
  /** Bytes of the current frame still to come, and its kind. */
  private remaining = 0;
  private kind = '';
  private message: Buffer[] = [];
  private stderr = '';
  private dead: Error | undefined;

  private constructor(
    private readonly child: Child,
    private readonly onIdle: (h: Helper) => void,
  ) {
    child.stdout.on('data', (chunk: Buffer) => this.receive(chunk));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (this.stderr.length < 4096) this.stderr += d;
    });
    child.stdin.on('error', () => undefined);
    child.on('error', (err) => this.fail(new CommandError('python3', `cannot decode xz data: ${err.message}`, { cause: err })));
    child.on('close', (code, signal) => {
      const why = this.stderr.trim().split('\n').pop() || (signal ? `killed by ${signal}` : `exited with status ${code}`);
      this.fail(new CommandError('python3', `the xz decoder stopped: ${why}`, { detail: this.stderr }));
    });
    this.hold(false);
  }

  static start(onIdle: (h: Helper) => void): Helper {
    return new Helper(spawnPython('lzma_decode.py', []), onIdle);
  }

  get usable(): boolean {
    return this.dead === undefined;
  }

  decode(range: MemberRange, format: 'xz' | 'lzma'): Decompression {
    const output = new Readable({
      highWaterMark: 256 * 1024,
      read: () => {
        this.child.stdout.resume();
      },
    });
    let settle!: { resolve: () => void; reject: (err: Error) => void };
    const finished = new Promise<void>((resolve, reject) => {
      settle = { resolve, reject };
    });
    finished.catch(() => undefined);
    this.current = { output, ...settle };
    this.hold(true);
    if (this.dead) this.fail(this.dead);
    else this.child.stdin.write(`${JSON.stringify({ file: range.file, offset: range.offset, size: range.size, format })}\n`);
    return {
      output,
      finished,
      abort: () => {
        // Mid-member the helper would go on writing: it goes, and the pool starts another.
        if (this.current?.output === output) this.child.kill('SIGKILL');
        output.destroy();
      },
    };
  }

  private receive(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.remaining > 0) {
        const piece = chunk.subarray(at, at + this.remaining);
        at += piece.length;
        this.remaining -= piece.length;
        if (this.kind === 'D') {
          if (this.current && !this.current.output.push(piece)) this.child.stdout.pause();
        } else {
          this.message.push(piece);
        }
        if (this.remaining === 0 && this.kind === 'X') this.end(Buffer.concat(this.message).toString('utf8'));
        continue;
      }
      const need = 5 - this.header.length;
      this.header = Buffer.concat([this.header, chunk.subarray(at, at + need)]);
      at += Math.min(need, chunk.length - at);
      if (this.header.length < 5) return;
      this.kind = String.fromCharCode(this.header[0]!);
      this.remaining = this.header.readUInt32BE(1);
      this.header = Buffer.alloc(0);
      this.message = [];
      if (this.kind === 'E') this.end(undefined);
      else if (this.kind === 'X' && this.remaining === 0) this.end('corrupt data');
    }
  }

  /** The member is done: its reader gets the end (and the reason, if it failed); the helper waits for the next. */
  private end(failure: string | undefined): void {
    const current = this.current;
    this.current = undefined;
    this.hold(false);
    if (!current) return;
    current.output.push(null);
    if (failure === undefined) current.resolve();
    else current.reject(new CommandError('liblzma', failure));
    this.onIdle(this);
  }

  private fail(err: Error): void {
    this.dead ??= err;
    const current = this.current;
    this.current = undefined;
    if (!current) return;
    current.output.push(null);
    current.reject(err);
  }

  /** An idle helper does not keep Node running; its stdin closing at exit ends it. */
  private hold(on: boolean): void {
    for (const h of [this.child, this.child.stdout, this.child.stderr, this.child.stdin] as unknown as { ref?(): void; unref?(): void }[]) {
      if (on) h.ref?.();
      else h.unref?.();
    }
  }
}

const idle: Helper[] = [];

/** The decompressed bytes of an .xz or .lzma member, decoded by an idle helper (or a new one). */
export function lzmaDecompress(range: MemberRange, format: 'xz' | 'lzma'): Decompression {
  let helper = idle.pop();
  while (helper && !helper.usable) helper = idle.pop();
  helper ??= Helper.start((h) => idle.push(h));
  return helper.decode(range, format);
}
