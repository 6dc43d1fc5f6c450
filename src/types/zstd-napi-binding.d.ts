// zstd-napi's low-level binding (a CommonJS module at the package root); only
// the streaming decompression context deblayer drives itself is declared.
declare module 'zstd-napi/binding.js' {
  class DCtx {
    constructor();
    /** Wraps ZSTD_decompressStream: [remaining hint (0 at frame end), bytes produced, bytes consumed]. */
    decompressStream(dstBuf: Uint8Array, srcBuf: Uint8Array): [number, number, number];
  }
  const binding: { DCtx: typeof DCtx; dStreamOutSize(): number };
  export default binding;
}
