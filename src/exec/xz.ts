// xz(1) from xz-utils (Priority: required, on every Debian system): the one
// place that spawns it. deblayer decompresses large .xz and .lzma members
// through it (the small ones go to the liblzma helper, src/exec/lzma.ts)
// because xz 5.4 decodes multi-block streams on all cores (lzma-native was
// slower: the figures are in the commit that dropped it), and a pipe gives
// exact backpressure: a member of a gigabyte of zeros never sits in memory.
//
// node:child_process rather than execa: the deb commands run nothing else, and
// execa's module graph is a start-up cost of its own.

import type { Readable } from 'node:stream';
import { CommandError } from '../errors.js';
import { spawnTraced } from './run.js';

export interface Decompression {
  /** The decompressed bytes. */
  output: Readable;
  /** Settles when xz has exited: rejects unless it exited cleanly. Check it after the output ends. */
  finished: Promise<void>;
  /** Stop early (the reader gave up): ends xz and the input. */
  abort(): void;
}

export function xzDecompress(input: Readable, format: 'xz' | 'lzma'): Decompression {
  const child = spawnTraced('xz', ['--decompress', '--stdout', '--threads=0', `--format=${format}`, '--quiet'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    if (stderr.length < 4096) stderr += d;
  });
  const finished = new Promise<void>((resolve, reject) => {
    child.on('error', (err) => reject(new CommandError('xz', `cannot run: ${err.message}`, { cause: err })));
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else {
        const why = stderr.trim().replace(/^xz: \(stdin\): /, '') || (signal ? `killed by ${signal}` : `exited with status ${code}`);
        reject(new CommandError('xz', why, { detail: stderr }));
      }
    });
  });
  finished.catch(() => undefined);
  // xz may exit early on corrupt input; its closed stdin is not our error.
  child.stdin.on('error', () => undefined);
  input.on('error', (err) => child.stdin.destroy(err));
  input.pipe(child.stdin);
  return {
    output: child.stdout,
    finished,
    abort() {
      input.destroy();
      if (child.exitCode === null && child.signalCode === null) child.kill();
    },
  };
}
