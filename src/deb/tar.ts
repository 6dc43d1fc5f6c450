// Streams the entries of one tar member of a .deb: file bytes -> decompressor
// -> tar-stream. The consumer gets each entry with its body and must read the
// body before asking for the next one; backpressure then keeps memory bounded.

import { pipeline } from 'node:stream/promises';
import tar, { type Header } from 'tar-stream';
import type { TarMember } from './layout.js';
import { entryFromHeader, type DebEntry } from './entry.js';
import { DebFormatError, DeblayerError } from '../errors.js';
import { openDecompressed } from './compression.js';

export interface TarItem {
  entry: DebEntry;
  /** The entry's data; must be consumed (or drained) before the next item. */
  body: AsyncIterable<Buffer> & { resume(): unknown };
}

function describe(file: string, member: TarMember, err: unknown): DeblayerError {
  if (err instanceof DeblayerError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new DebFormatError(file, `corrupt member '${member.name}' (${member.compression}): ${message}`, { cause: err });
}

export async function* readTarMember(file: string, member: TarMember): AsyncGenerator<TarItem> {
  const { output: source, finished, abort } = openDecompressed({ file, offset: member.offset, size: member.size }, member.compression);
  const extract = tar.extract();
  // The pipeline's outcome is collected here and re-thrown after iteration, so
  // a corrupt stream surfaces as a format error rather than an unhandled rejection.
  let pipelineError: unknown;
  const piped = (pipeline as (...s: unknown[]) => Promise<void>)(source, extract).catch((err: unknown) => {
    pipelineError = err;
  });
  let sawEnd = false;
  try {
    for await (const item of extract as unknown as AsyncIterable<{ header: Header }>) {
      const stream = item as unknown as TarItem['body'];
      // A stream cut short fails while a body is read: report it as the
      // member's corruption, not as a failure of whoever was reading.
      const body = {
        resume: () => stream.resume(),
        async *[Symbol.asyncIterator]() {
          try {
            yield* stream;
          } catch (err) {
            await new Promise((resolve) => setImmediate(resolve));
            throw describe(file, member, pipelineError ?? err);
          }
        },
      };
      yield { entry: entryFromHeader(file, item.header), body };
    }
    sawEnd = true;
  } catch (err) {
    throw describe(file, member, pipelineError ?? err);
  } finally {
    if (!sawEnd) {
      abort();
      extract.destroy();
    }
  }
  await piped;
  if (pipelineError !== undefined) throw describe(file, member, pipelineError);
  try {
    await finished;
  } catch (err) {
    throw describe(file, member, err);
  }
}
