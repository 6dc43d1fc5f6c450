// One entry of a .deb's data.tar, normalised from tar-stream's header: paths
// relative to the package root without './' or a trailing '/', PAX overrides
// applied, and every type dpkg accepts mapped to one name. Unsafe names are
// refused here, before anything is written.

import type { Header } from 'tar-stream';
import { DebFormatError, UnsafePathError } from '../errors.js';
import { decodeName } from '../vocabulary/file-names.js';

export type EntryType = 'file' | 'directory' | 'symlink' | 'hardlink' | 'char-device' | 'block-device' | 'fifo';

export interface DebEntry {
  /** Path relative to the package root: 'usr/bin/ls'; '' for the root itself. */
  path: string;
  type: EntryType;
  /** Permission bits including setuid, setgid and sticky (07777). */
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  /** Data size in bytes (regular files only; 0 otherwise). */
  size: number;
  /** Modification time in seconds since the epoch (fractional with PAX). */
  mtime: number;
  /** Symlink target as recorded, or for hardlinks the normalised path of the earlier entry. */
  linkTarget?: string;
  devMajor?: number;
  devMinor?: number;
}

const TYPES: Partial<Record<Header['type'], EntryType>> = {
  file: 'file',
  'contiguous-file': 'file',
  directory: 'directory',
  symlink: 'symlink',
  link: 'hardlink',
  'character-device': 'char-device',
  'block-device': 'block-device',
  fifo: 'fifo',
};

/** Normalise an archive member name, refusing absolute paths and '..'. */
export function normaliseEntryPath(file: string, raw: string): string {
  if (raw.startsWith('/')) throw new UnsafePathError(file, raw, 'absolute path');
  if (raw.includes('\0')) throw new UnsafePathError(file, raw, 'NUL byte in name');
  const parts: string[] = [];
  for (const part of raw.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') throw new UnsafePathError(file, raw, "path contains '..'");
    parts.push(part);
  }
  return parts.join('/');
}

function paxNumber(pax: Record<string, string> | null | undefined, key: string): number | undefined {
  const value = pax?.[key];
  if (value === undefined) return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * The header's mtime. GNU tar writes times before 1970 in base-256 two's
 * complement; tar-stream 3 decodes those one second too late (it negates the
 * complement without adding one), so negative values are corrected here.
 */
function headerMtime(header: Header): number {
  if (!header.mtime) return 0;
  const seconds = header.mtime.getTime() / 1000;
  return seconds < 0 ? seconds - 1 : seconds;
}

/**
 * Names from ustar and GNU headers arrive as latin1 (one char a byte, see
 * tar.ts) and are decoded here; PAX names are UTF-8 by definition and arrive
 * decoded.
 */
function headerName(raw: string, fromPax: boolean): string {
  return fromPax ? raw : decodeName(Buffer.from(raw, 'latin1'));
}

export function entryFromHeader(file: string, header: Header): DebEntry {
  const rawType = header.type as string | null;
  const type = rawType ? TYPES[rawType as Header['type']] : undefined;
  if (type === undefined) {
    throw new DebFormatError(file, `entry '${headerName(header.name, false)}' has a tar type deblayer does not handle (${rawType ?? 'unknown'})`);
  }
  const pax = header.pax as Record<string, string> | null | undefined;
  const name = headerName(header.name, pax?.path !== undefined);
  const linkname = header.linkname ? headerName(header.linkname, pax?.linkpath !== undefined) : header.linkname;
  const path = normaliseEntryPath(file, name);
  const entry: DebEntry = {
    path,
    type,
    mode: (header.mode ?? 0) & 0o7777,
    uid: paxNumber(pax, 'uid') ?? header.uid ?? 0,
    gid: paxNumber(pax, 'gid') ?? header.gid ?? 0,
    uname: pax?.uname ?? header.uname ?? '',
    gname: pax?.gname ?? header.gname ?? '',
    size: type === 'file' ? (header.size ?? 0) : 0,
    mtime: paxNumber(pax, 'mtime') ?? headerMtime(header),
  };
  if (type === 'symlink') {
    if (!linkname) throw new DebFormatError(file, `symlink '${name}' has no target`);
    entry.linkTarget = linkname;
  } else if (type === 'hardlink') {
    if (!linkname) throw new DebFormatError(file, `hardlink '${name}' has no target`);
    entry.linkTarget = normaliseEntryPath(file, linkname);
  } else if (type === 'char-device' || type === 'block-device') {
    entry.devMajor = header.devmajor ?? 0;
    entry.devMinor = header.devminor ?? 0;
  }
  if (path === '' && type !== 'directory') throw new UnsafePathError(file, name, 'the package root must be a directory');
  return entry;
}
