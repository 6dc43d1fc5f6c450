// What an initramfs holds, read without unpacking it. dracut and
// initramfs-tools write one or more cpio archives back to back: the first ones
// uncompressed (early microcode), the last compressed as a whole. Whether
// ostree-prepare-root is inside decides whether the kernel can mount an OSTree
// deployment as its root, which `base import` checks before a tree is called
// bootable.

import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { openDecompressed, type Compression } from '../deb/compression.js';
import { DeblayerError } from '../errors.js';

const MAGICS: [Buffer, Compression | 'lz4' | 'bzip2'][] = [
  [Buffer.from([0x1f, 0x8b]), 'gzip'],
  [Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), 'zstd'],
  [Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), 'xz'],
  [Buffer.from([0x5d, 0x00, 0x00]), 'lzma'],
  [Buffer.from([0x02, 0x21, 0x4c, 0x18]), 'lz4'],
  [Buffer.from('BZh'), 'bzip2'],
];

const CPIO_NEWC = ['070701', '070702'];
const HEADER = 110;

/**
 * The first of NAMES (paths inside the archive, without a leading slash) that
 * the initramfs at PATH holds, or undefined when it holds none of them.
 */
export async function initramfsHolds(path: string, names: string[]): Promise<string | undefined> {
  const fd = openSync(path, 'r');
  let offset = 0;
  const size = statSync(path).size;
  try {
    // Uncompressed archives first: walk their headers to find where the compressed part starts.
    for (;;) {
      const head = readAt(fd, offset, HEADER);
      if (head.length < 6 || !CPIO_NEWC.includes(head.toString('latin1', 0, 6))) break;
      const { found, end } = walkCpio(fd, offset, names);
      if (found) return found;
      offset = end;
      // Archives are padded with zeros to a block boundary.
      while (offset < size && readAt(fd, offset, 1)[0] === 0) offset++;
    }
  } finally {
    closeSync(fd);
  }
  if (offset >= size) return undefined;
  const magic = readMagic(path, offset);
  if (magic === 'lz4' || magic === 'bzip2' || magic === undefined) {
    throw new DeblayerError(`${path}: cannot read this initramfs (${magic ?? 'unknown'} compression): deblayer reads gzip, zstd, xz and lzma`);
  }
  return scanStream(path, offset, size - offset, magic, names);
}

function readAt(fd: number, offset: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  const n = readSync(fd, buf, 0, length, offset);
  return buf.subarray(0, n);
}

function readMagic(path: string, offset: number): Compression | 'lz4' | 'bzip2' | undefined {
  const fd = openSync(path, 'r');
  try {
    const head = readAt(fd, offset, 8);
    return MAGICS.find(([m]) => head.subarray(0, m.length).equals(m))?.[1];
  } finally {
    closeSync(fd);
  }
}

/** Walks one uncompressed newc archive starting at OFFSET; returns a wanted name it holds and where it ends. */
function walkCpio(fd: number, offset: number, names: string[]): { found?: string; end: number } {
  for (;;) {
    const head = readAt(fd, offset, HEADER);
    if (head.length < HEADER) return { end: offset };
    if (!CPIO_NEWC.includes(head.toString('latin1', 0, 6))) throw new DeblayerError(`corrupt cpio archive in the initramfs at byte ${offset}`);
    const field = (i: number) => parseInt(head.toString('latin1', 6 + i * 8, 14 + i * 8), 16);
    const fileSize = field(6);
    const nameSize = field(11);
    const name = readAt(fd, offset + HEADER, nameSize - 1).toString('utf8');
    offset = align4(align4(offset + HEADER + nameSize) + fileSize);
    if (name === 'TRAILER!!!') return { end: offset };
    const wanted = names.find((n) => n === name.replace(/^\.?\//, ''));
    if (wanted) return { found: wanted, end: offset };
  }
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

/**
 * Looks for each name as a cpio entry name (NUL-terminated, as newc writes it)
 * in the decompressed bytes, stopping at the first hit.
 */
async function scanStream(path: string, offset: number, size: number, kind: Compression, names: string[]): Promise<string | undefined> {
  const needles = names.map((n) => ({ name: n, bytes: Buffer.from(`${n}\0`) }));
  const keep = Math.max(...needles.map((n) => n.bytes.length));
  const d = openDecompressed({ file: path, offset, size }, kind);
  let tail = Buffer.alloc(0);
  try {
    for await (const chunk of d.output as AsyncIterable<Buffer>) {
      const window = Buffer.concat([tail, chunk]);
      for (const n of needles) {
        if (window.includes(n.bytes)) return n.name;
      }
      tail = window.subarray(Math.max(0, window.length - keep));
    }
    await d.finished;
    return undefined;
  } catch (err) {
    throw new DeblayerError(`${path}: cannot read the initramfs: ${(err as Error).message}`, { cause: err });
  } finally {
    d.abort();
  }
}
