// The liblzma helper (src/exec/lzma.ts) against xz(1) on the same bytes: what
// it decodes, how it fails, and that a helper serves member after member,
// several readers at once, and survives a reader that gives up.

import { execa } from 'execa';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { lzmaDecompress } from '../../src/exec/lzma.js';

const work = mkdtempSync(join(tmpdir(), 'deblayer-lzma-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function xz(args: string[], input: Buffer): Promise<Buffer> {
  return Buffer.from((await execa('xz', args, { input, encoding: 'buffer', stripFinalNewline: false })).stdout as unknown as Uint8Array);
}

/** FILE holding PREFIX, then DATA, then SUFFIX: the member is the middle, as in an ar archive. */
function fileWith(name: string, data: Buffer, prefix = 17, suffix = 5): { file: string; offset: number; size: number } {
  const file = join(work, name);
  writeFileSync(file, Buffer.concat([Buffer.alloc(prefix, 0x61), data, Buffer.alloc(suffix, 0x62)]));
  return { file, offset: prefix, size: data.length };
}

async function decode(range: { file: string; offset: number; size: number }, format: 'xz' | 'lzma' = 'xz'): Promise<Buffer> {
  const d = lzmaDecompress(range, format);
  const chunks: Buffer[] = [];
  for await (const c of d.output) chunks.push(c as Buffer);
  await d.finished;
  return Buffer.concat(chunks);
}

async function failure(range: { file: string; offset: number; size: number }, format: 'xz' | 'lzma' = 'xz'): Promise<string> {
  try {
    await decode(range, format);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('decoded without error');
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

// Text and random bytes, 3 MB: several 256 KiB frames, and data xz cannot shrink.
const plain = Buffer.concat([Buffer.from('deblayer '.repeat(200000)), randomBytes(1 << 20)]);

describe('the liblzma helper', () => {
  test('decodes what xz decodes: one stream, two streams with padding, the lzma format', async () => {
    const one = await xz(['-c', '-6'], plain);
    expect(sha(await decode(fileWith('one.xz', one)))).toBe(sha(plain));
    // xz(1) reads concatenated streams and zero padding after them: so does the helper.
    const two = Buffer.concat([one, Buffer.alloc(8), await xz(['-c', '-1'], Buffer.from('tail\n'))]);
    expect((await decode(fileWith('two.xz', two))).toString('latin1')).toBe(plain.toString('latin1') + 'tail\n');
    expect(sha(await xz(['-dc'], two))).toBe(sha(Buffer.concat([plain, Buffer.from('tail\n')])));
    const legacy = await xz(['--format=lzma', '-c'], plain);
    expect(sha(await decode(fileWith('legacy.lzma', legacy), 'lzma'))).toBe(sha(plain));
  });

  test("fails in xz's words: truncated, not xz at all, corrupt", async () => {
    const one = await xz(['-c'], plain);
    expect(await failure(fileWith('cut.xz', one.subarray(0, one.length >> 1)))).toBe('liblzma: Unexpected end of input');
    expect(await failure(fileWith('text.xz', Buffer.from('not compressed at all\n')))).toBe('liblzma: File format not recognized');
    const corrupt = Buffer.from(one);
    for (let i = 200; i < 400; i++) corrupt[i] = 0x55;
    expect(await failure(fileWith('corrupt.xz', corrupt))).toBe('liblzma: Compressed data is corrupt');
    expect(await failure({ file: join(work, 'missing.xz'), offset: 0, size: 10 })).toMatch(/^liblzma: .*No such file or directory/);
  });

  test('three readers at once, then a reader that gives up halfway, then more members', async () => {
    const members = await Promise.all([1, 2, 3].map(async (n) => ({ n, data: await xz(['-c'], Buffer.concat([plain, Buffer.from(`member ${n}\n`)])) })));
    const decoded = await Promise.all(members.map((m) => decode(fileWith(`m${m.n}.xz`, m.data))));
    decoded.forEach((d, i) => expect(d.subarray(-9).toString()).toBe(`member ${i + 1}\n`));
    // Abort after the first chunk: the helper in the middle of that member goes.
    const d = lzmaDecompress(fileWith('abort.xz', members[0]!.data), 'xz');
    for await (const _ of d.output) break;
    d.abort();
    for (const m of members) expect(sha(await decode(fileWith(`again${m.n}.xz`, m.data)))).toBe(sha(await xz(['-dc'], m.data)));
  });
});
