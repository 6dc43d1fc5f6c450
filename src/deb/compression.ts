// Decompressed streams of the tar members of a .deb, chosen by member-name
// suffix as dpkg does. Memory must stay bounded whatever the package holds,
// including a gigabyte of zeros that compresses to kilobytes:
//  - gzip: Node's zlib honours backpressure inside a chunk already;
//  - xz/lzma: lzma-native decodes each written chunk whole (in libuv's pool),
//    so input is fed in pieces sized from the observed ratio, each waiting
//    until the reader has taken the previous piece's output;
//  - zstd: zstd-napi's stream transform decodes each chunk whole too, so its
//    low-level context is driven from _read, one output buffer per call.

import { createReadStream } from 'node:fs';
import { Readable, type Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import lzma from 'lzma-native';
import zstdBinding from 'zstd-napi/binding.js';

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
  return createReadStream(range.file, {
    start: range.offset,
    end: range.offset + range.size - 1,
    highWaterMark: READ_CHUNK,
  });
}

/** The decompressed bytes of a byte range of a file. */
export function openDecompressed(range: ByteRange, kind: Compression): Readable {
  switch (kind) {
    case 'none':
      return rawStream(range);
    case 'gzip': {
      const gunzip = createGunzip({ chunkSize: READ_CHUNK });
      const source = rawStream(range);
      source.on('error', (err) => gunzip.destroy(err));
      return source.pipe(gunzip);
    }
    case 'xz':
    case 'lzma':
      return meteredLzma(rawStream(range), kind === 'xz' ? lzma.createDecompressor() : lzma.createStream('aloneDecoder'));
    case 'zstd':
      return new ZstdReadable(rawStream(range));
  }
}

// Output one input piece may produce at the most, by the last piece's ratio.
const OUTPUT_BUDGET = 4 * 1024 * 1024;
const MIN_PIECE = 4 * 1024;

type LzmaStream = Transform & { totalOut(): number };

function meteredLzma(source: Readable, decoder: Transform): Readable {
  const dec = decoder as LzmaStream;
  const feed = async () => {
    let piece = MIN_PIECE;
    let lastOut = 0;
    for await (const chunk of source as AsyncIterable<Buffer>) {
      for (let at = 0; at < chunk.length; ) {
        const part = chunk.subarray(at, at + piece);
        at += part.length;
        // The write callback fires once the part is decoded and the reader
        // has drained the output below the high-water mark.
        await new Promise<void>((resolve, reject) => dec.write(part, (err) => (err ? reject(err) : resolve())));
        const produced = dec.totalOut() - lastOut;
        lastOut = dec.totalOut();
        const ratio = Math.max(1, produced / part.length);
        piece = Math.max(MIN_PIECE, Math.min(READ_CHUNK, Math.floor(OUTPUT_BUDGET / ratio)));
      }
    }
    dec.end();
  };
  feed().catch((err: unknown) => dec.destroy(err as Error));
  dec.on('close', () => source.destroy());
  return dec;
}

const { DCtx, dStreamOutSize } = zstdBinding;
const ZSTD_OUT = dStreamOutSize();

/** zstd decoding pulled by the reader: one output buffer per _read. */
class ZstdReadable extends Readable {
  private readonly dctx = new DCtx();
  private readonly input: AsyncIterator<Buffer>;
  private pending: Buffer = Buffer.alloc(0);
  private inFrame = false;
  private busy = false;

  constructor(private readonly source: Readable) {
    super({ highWaterMark: READ_CHUNK });
    this.input = (source as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  }

  override _read(): void {
    if (this.busy) return;
    this.busy = true;
    this.pull().then(
      () => {
        this.busy = false;
      },
      (err: unknown) => this.destroy(err as Error),
    );
  }

  private async pull(): Promise<void> {
    for (;;) {
      if (this.pending.length > 0 || this.inFrame) {
        const out = Buffer.allocUnsafe(ZSTD_OUT);
        const [ret, produced, consumed] = this.dctx.decompressStream(out, this.pending);
        this.pending = this.pending.subarray(consumed);
        this.inFrame = ret !== 0;
        if (produced > 0) {
          this.push(out.subarray(0, produced));
          return;
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
