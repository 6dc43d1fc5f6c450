// Decompressors for the tar members of a .deb, chosen by member-name suffix as
// dpkg does. All are streaming transforms running off the main thread (zlib
// and liblzma in libuv's pool, zstd in its native binding), so unpacking keeps
// a bounded buffer whatever the package size.

import { createGunzip } from 'node:zlib';
import type { Transform } from 'node:stream';
import lzma from 'lzma-native';
import { DecompressStream } from 'zstd-napi';

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

/** A transform that decompresses `kind`, or undefined for an uncompressed member. */
export function createDecompressor(kind: Compression): Transform | undefined {
  switch (kind) {
    case 'none':
      return undefined;
    case 'gzip':
      return createGunzip({ chunkSize: 256 * 1024 });
    case 'xz':
      return lzma.createDecompressor();
    case 'lzma':
      return lzma.createStream('aloneDecoder');
    case 'zstd':
      return new DecompressStream();
  }
}
