// Streams the entries of one tar member of a .deb: file bytes -> decompressor
// -> tar-stream. The consumer gets each entry with its body and must read the
// body before asking for the next one; backpressure then keeps memory bounded.

import { pipeline } from 'node:stream/promises';
import { setTimeout as delay } from 'node:timers/promises';
import tar, { type Header } from 'tar-stream';
import type { TarMember } from './layout.js';
import { entryFromHeader, type DebEntry } from './entry.js';
import { CommandError, DebFormatError, DeblayerError } from '../errors.js';
import { openDecompressed } from './compression.js';

/** An entry's data. Exactly one of consume() or skip() before the next entry. */
export interface EntryBody {
  /**
   * Hand every chunk to `onChunk`, synchronously, in order; resolves at the
   * end of the entry. Chunks arrive as events, not one promise each: entries
   * are many and mostly small, and per-chunk promises were measurable.
   */
  consume(onChunk: (chunk: Buffer) => void): Promise<void>;
  /** Discard the data. */
  skip(): void;
}

export interface TarItem {
  entry: DebEntry;
  body: EntryBody;
}

interface StreamxReadable {
  readonly destroyed: boolean;
  readonly destroying: boolean;
  on(event: string, fn: (arg?: unknown) => void): unknown;
  resume(): unknown;
  destroy(err?: unknown): unknown;
}

function describe(file: string, member: TarMember, err: unknown): DeblayerError {
  // Our own verdicts pass as they are; a decompressor's complaint gets the file and member.
  if (err instanceof DeblayerError && !(err instanceof CommandError)) return err;
  const message = err instanceof CommandError ? err.reason : err instanceof Error ? err.message : String(err);
  return new DebFormatError(file, `corrupt member '${member.name}' (${member.compression}): ${message}`, { cause: err });
}

/**
 * One entry's body as a stream the caller consumes or skips. A consumer's own
 * failure (a write error) is reported as is; a stream cut short is the
 * member's corruption, reported once EXPLAIN has heard why from the pipeline
 * and the decompressor.
 */
function entryBody(stream: StreamxReadable, explain: (err: unknown) => Promise<DeblayerError>): EntryBody {
  return {
    skip: () => stream.resume(),
    consume: (onChunk) =>
      new Promise<void>((resolve, reject) => {
        let failure: unknown;
        let ended = false;
        stream.on('data', (chunk) => {
          if (failure !== undefined) return;
          try {
            onChunk(chunk as Buffer);
          } catch (err) {
            failure = err;
            stream.destroy();
          }
        });
        stream.on('end', () => {
          ended = true;
          resolve();
        });
        const cutShort = (err?: unknown) => {
          if (ended) return;
          ended = true;
          if (failure !== undefined) return reject(failure);
          setImmediate(() => void explain(err ?? new Error('unexpected end of data')).then(reject));
        };
        stream.on('error', cutShort);
        stream.on('close', () => cutShort());
        // Torn down before anyone listened (the input ended mid-entry).
        if (stream.destroyed || stream.destroying) cutShort();
      }),
  };
}

export async function* readTarMember(file: string, member: TarMember): AsyncGenerator<TarItem> {
  // dpkg-deb: "does not look like a tar archive".
  if (member.size === 0) throw new DebFormatError(file, `member '${member.name}' is empty, not a tar archive`);
  const { output: source, finished, abort } = openDecompressed({ file, offset: member.offset, size: member.size }, member.compression);
  // latin1 keeps every byte of ustar/GNU names; entry.ts decodes them (names.ts).
  const extract = tar.extract({ filenameEncoding: 'latin1' } as Parameters<typeof tar.extract>[0]);
  // The pipeline's outcome is collected here and re-thrown after iteration, so
  // a corrupt stream surfaces as a format error rather than an unhandled rejection.
  let pipelineError: unknown;
  const piped = (pipeline as (...s: unknown[]) => Promise<void>)(source, extract).catch((err: unknown) => {
    pipelineError = err;
  });
  // When the tar stream breaks, a failed decompressor knows better why (xz:
  // "Compressed data is corrupt" rather than tar's "Unexpected end of data").
  const explain = async (err: unknown): Promise<DeblayerError> => {
    if (err instanceof DeblayerError && !(err instanceof CommandError)) return err;
    const settled = await Promise.race([
      finished.then(
        () => undefined,
        (e: unknown) => e,
      ),
      delay(2000, undefined, { ref: false }),
    ]);
    return describe(file, member, settled ?? pipelineError ?? err);
  };
  let sawEnd = false;
  try {
    for await (const item of extract as unknown as AsyncIterable<{ header: Header }>) {
      const stream = item as unknown as StreamxReadable;
      const body = entryBody(stream, explain);
      yield { entry: entryFromHeader(file, item.header), body };
    }
    sawEnd = true;
  } catch (err) {
    throw await explain(pipelineError ?? err);
  } finally {
    if (!sawEnd) {
      abort();
      extract.destroy();
    }
  }
  await piped;
  if (pipelineError !== undefined) throw await explain(pipelineError);
  try {
    await finished;
  } catch (err) {
    throw describe(file, member, err);
  }
}
