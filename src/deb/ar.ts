// The ar(5) container of a .deb: an 8-byte magic, then members, each a
// 60-byte header followed by its data padded to an even length. Only headers
// are read here; member data is streamed later from the recorded offsets, so a
// package of any size costs the same memory.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { DebFormatError } from '../errors.js';

export const AR_MAGIC = '!<arch>\n';
const HEADER_SIZE = 60;
const HEADER_END = '`\n';

export interface ArMember {
  /** Member name, with ar's trailing spaces and GNU '/' removed. */
  name: string;
  /** Byte offset of the member's data in the file. */
  offset: number;
  /** Length of the member's data, as its header declares. */
  size: number;
}

export interface ArArchive {
  file: string;
  /** Size of the whole file in bytes. */
  size: number;
  members: ArMember[];
}

function readExactly(fd: number, length: number, position: number): Buffer {
  const buf = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buf, done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return buf.subarray(0, done);
}

function parseHeader(file: string, header: Buffer, at: number): { name: string; size: number } {
  if (header.toString('latin1', 58, 60) !== HEADER_END) {
    throw new DebFormatError(file, `corrupt ar member header at offset ${at} (bad terminator)`);
  }
  const name = header.toString('latin1', 0, 16).trimEnd().replace(/\/$/, '');
  const sizeField = header.toString('latin1', 48, 58).trim();
  if (!/^\d+$/.test(sizeField)) {
    throw new DebFormatError(file, `corrupt ar member header for '${name}' at offset ${at} (size '${sizeField}')`);
  }
  return { name, size: Number(sizeField) };
}

/**
 * Read the member table of an ar archive, checking magic and sizes against the
 * file. With `stopAfter`, reading ends after the first member it accepts, and
 * whatever follows is never looked at (dpkg stops after the data member too).
 */
export function readArArchive(file: string, stopAfter?: (member: ArMember) => boolean): ArArchive {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new DebFormatError(file, `cannot open: ${why}`, { cause: err });
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new DebFormatError(file, 'not a regular file');
    const fileSize = stat.size;
    const magic = readExactly(fd, AR_MAGIC.length, 0).toString('latin1');
    if (magic !== AR_MAGIC) {
      throw new DebFormatError(
        file,
        fileSize < AR_MAGIC.length ? `truncated: only ${fileSize} bytes, not an ar archive` : 'not a Debian package (bad ar magic)',
      );
    }
    const members: ArMember[] = [];
    let pos = AR_MAGIC.length;
    while (pos < fileSize) {
      // ar pads odd-sized members with one '\n'; a lone trailing pad byte is fine.
      if (pos + 1 === fileSize && readExactly(fd, 1, pos).toString('latin1') === '\n') break;
      if (pos + HEADER_SIZE > fileSize) {
        throw new DebFormatError(file, `truncated: member header at offset ${pos} is cut short (${fileSize - pos} of ${HEADER_SIZE} bytes)`);
      }
      const { name, size } = parseHeader(file, readExactly(fd, HEADER_SIZE, pos), pos);
      const offset = pos + HEADER_SIZE;
      if (offset + size > fileSize) {
        throw new DebFormatError(
          file,
          `truncated: member '${name}' declares ${size} bytes but only ${fileSize - offset} remain`,
        );
      }
      members.push({ name, offset, size });
      if (stopAfter?.(members[members.length - 1]!)) break;
      pos = offset + size + (size % 2);
    }
    return { file, size: fileSize, members };
  } finally {
    closeSync(fd);
  }
}

/** Read one (small) member's data whole. */
export function readArMemberData(file: string, member: ArMember): Buffer {
  const fd = openSync(file, 'r');
  try {
    return readExactly(fd, member.size, member.offset);
  } finally {
    closeSync(fd);
  }
}
