// Decompressed streams of the tar members of a .deb, chosen by member-name
// suffix as dpkg does. Memory must stay bounded whatever the package holds,
// including a gigabyte of zeros that compresses to kilobytes:
//  - gzip: Node's zlib honours backpressure inside a chunk already;
//  - xz/lzma: the xz program through a pipe, which decodes multi-block
//    streams on every core (src/exec/xz.ts); in an import, a small member goes
//    to a liblzma helper that reads it itself (src/exec/lzma.ts);
//  - zstd: zstd-napi's own stream transform decodes each written chunk whole,
//    so its low-level context is driven from _read, one output buffer per call
//    (on the main thread: zstd decodes at several hundred MB/s).

import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { xzDecompress, type Decompression } from '../exec/xz.js';
import { lzmaDecompress } from '../exec/lzma.js';
import { createRequire } from 'node:module';
import type zstdBindingModule from 'zstd-napi/binding.js';

export type Compression = 'none' | 'gzip' | 'xz' | 'zstd' | 'lzma';

const SUFFIXES: Record<string, Compression> = {
  '': 'none',
  '.gz': 'gzip',
  '.xz': 'xz',
  '.zst': 'zstd',
  '.lzma': 'lzma',
};

/**
 * The compression of a member such as 'data.tar.xz', or undefined when the
 * suffix is not one deblayer reads (dpkg's deprecated bzip2 among them).
 */
export function compressionFromSuffix(suffix: string): Compression | undefined {
  return Object.hasOwn(SUFFIXES, suffix) ? SUFFIXES[suffix] : undefined;
}

const READ_CHUNK = 256 * 1024;

export interface ByteRange {
  file: string;
  offset: number;
  size: number;
}

function rawStream(range: ByteRange): Readable {
  if (range.size === 0) return Readable.from([]);
  return createReadStream(range.file, {
    start: range.offset,
    end: range.offset + range.size - 1,
    highWaterMark: READ_CHUNK,
  });
}

// Below this compressed size a member may go to the liblzma helpers: xz's
// threads only help a member of several blocks, and a member under 4 MB
// holds one or two.
const LZMA_HELPER_MAX = 4 * 1024 * 1024;
let lzmaHelpers = false;

/**
 * From now on, small .xz and .lzma members go to the liblzma helpers rather
 * than to an xz process each. An import of more than a few packages turns
 * this on: it decodes two members a package. A deb command decodes two in
 * all, and there a helper's start costs more than it saves.
 */
export function useLzmaHelpers(): void {
  lzmaHelpers = true;
}

/**
 * The decompressed bytes of a byte range of a file. `finished` settles once
 * the decompressor has ended: a decompressor that fails after its output
 * ended (a truncated stream) rejects it. `abort` releases everything early.
 */
export function openDecompressed(range: ByteRange, kind: Compression): Decompression {
  if (lzmaHelpers && (kind === 'xz' || kind === 'lzma') && range.size > 0 && range.size <= LZMA_HELPER_MAX) return lzmaDecompress(range, kind);
  const source = rawStream(range);
  const inProcess = (output: Readable): Decompression => ({
    output,
    finished: Promise.resolve(),
    abort: () => {
      source.destroy();
      output.destroy();
    },
  });
  switch (kind) {
    case 'none':
      return inProcess(source);
    case 'gzip': {
      const gunzip = createGunzip({ chunkSize: READ_CHUNK });
      source.on('error', (err) => gunzip.destroy(err));
      return inProcess(source.pipe(gunzip));
    }
    case 'xz':
    case 'lzma':
      return xzDecompress(source, kind);
    case 'zstd':
      return inProcess(new ZstdReadable(source));
  }
}

// Loaded on first use: Debian packages are xz, and every call pays for what
// the module graph loads at start-up.
let zstd: typeof zstdBindingModule | undefined;
function zstdBinding(): typeof zstdBindingModule {
  zstd ??= createRequire(import.meta.url)('zstd-napi/binding.js') as typeof zstdBindingModule;
  return zstd;
}

/** zstd decoding pulled by the reader: one output buffer per _read. */
class ZstdReadable extends Readable {
  private readonly dctx = new (zstdBinding().DCtx)();
  private readonly outSize = zstdBinding().dStreamOutSize();
  private readonly input: AsyncIterator<Buffer>;
  private pending: Buffer = Buffer.alloc(0);
  private inFrame = false;
  private busy = false;
  private again = false;

  constructor(private readonly source: Readable) {
    super({ highWaterMark: READ_CHUNK });
    this.input = (source as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  }

  override _read(): void {
    // Node may ask again while a pull waits for input; remember that and pull
    // once more afterwards, or the stream would stall with nobody to wake it.
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    this.pull().then(
      () => {
        this.busy = false;
        if (this.again) {
          this.again = false;
          this._read();
        }
      },
      (err: unknown) => this.destroy(err as Error),
    );
  }

  /** Decode until the reader's buffer is full, the input runs dry, or the end. */
  private async pull(): Promise<void> {
    for (;;) {
      if (this.pending.length > 0 || this.inFrame) {
        const out = Buffer.allocUnsafe(this.outSize);
        const [ret, produced, consumed] = this.dctx.decompressStream(out, this.pending);
        this.pending = this.pending.subarray(consumed);
        this.inFrame = ret !== 0;
        if (produced > 0) {
          if (!this.push(out.subarray(0, produced))) return;
          continue;
        }
        // No output and no input left: the frame needs more data.
        if (this.pending.length > 0) continue;
      }
      const next = await this.input.next();
      if (next.done) {
        if (this.inFrame) throw new Error('zstd stream ends in the middle of a frame');
        this.push(null);
        return;
      }
      this.pending = next.value;
    }
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    this.source.destroy();
    cb(err);
  }
}
