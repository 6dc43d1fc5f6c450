// lzma-native ships no type declarations; this covers the part deblayer uses.
declare module 'lzma-native' {
  import type { Transform } from 'node:stream';
  export function createDecompressor(options?: { synchronous?: boolean; memlimit?: number }): Transform;
  export function createStream(coder: 'aloneDecoder' | 'autoDecoder' | 'rawDecoder', options?: object): Transform;
  const lzma: {
    createDecompressor: typeof createDecompressor;
    createStream: typeof createStream;
  };
  export default lzma;
}
