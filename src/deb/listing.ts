// The `tar -tv` style listing that `dpkg-deb -c` prints, so users can compare
// deblayer's view of a package with dpkg's line by line.

import type { DebEntry } from './entry.js';
import { escapedByte } from '../vocabulary/file-names.js';

const TYPE_CHAR: Record<DebEntry['type'], string> = {
  file: '-',
  hardlink: 'h',
  directory: 'd',
  symlink: 'l',
  'char-device': 'c',
  'block-device': 'b',
  fifo: 'p',
};

export function modeString(entry: DebEntry): string {
  const m = entry.mode;
  const t = TYPE_CHAR[entry.type];
  const rwx = (r: number, w: number, x: number, special: boolean, on: string, off: string) =>
    (m & r ? 'r' : '-') + (m & w ? 'w' : '-') + (special ? (m & x ? on : off) : m & x ? 'x' : '-');
  return (
    t +
    rwx(0o400, 0o200, 0o100, (m & 0o4000) !== 0, 's', 'S') +
    rwx(0o040, 0o020, 0o010, (m & 0o2000) !== 0, 's', 'S') +
    rwx(0o004, 0o002, 0o001, (m & 0o1000) !== 0, 't', 'T')
  );
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

function localTime(seconds: number): string {
  const d = new Date(Math.floor(seconds) * 1000);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
}

const C_ESCAPES: Record<string, string> = { '\x07': 'a', '\b': 'b', '\f': 'f', '\n': 'n', '\r': 'r', '\t': 't', '\v': 'v', '\\': '\\' };

/**
 * GNU tar's default 'escape' quoting of names, as dpkg-deb -c shows them:
 * C escapes for control characters, octal for bytes the locale cannot print.
 */
export function tarQuote(name: string, utf8Locale: boolean): string {
  let out = '';
  for (const ch of name) {
    const esc = C_ESCAPES[ch];
    const code = ch.charCodeAt(0);
    // A byte that is not UTF-8 (escaped by names.ts): tar prints it in octal.
    const byte = escapedByte(ch);
    if (esc) out += `\\${esc}`;
    else if (byte !== undefined) out += `\\${byte.toString(8)}`;
    else if (code < 0x20 || code === 0x7f) out += `\\${code.toString(8).padStart(3, '0')}`;
    else if (code > 0x7e && !utf8Locale) {
      for (const b of Buffer.from(ch, 'utf8')) out += `\\${b.toString(8).padStart(3, '0')}`;
    } else out += ch;
  }
  return out;
}

function localeIsUtf8(): boolean {
  const env = process.env;
  const locale = env.LC_ALL || env.LC_CTYPE || env.LANG || '';
  return /utf-?8/i.test(locale);
}

export function archiveName(entry: DebEntry): string {
  if (entry.path === '') return './';
  return `./${entry.path}${entry.type === 'directory' ? '/' : ''}`;
}

/** Formats entries one line at a time; keeps GNU tar's growing owner/size column. */
export class ListingFormatter {
  private width = 19;
  private readonly utf8 = localeIsUtf8();

  line(entry: DebEntry): string {
    const owner = `${entry.uname || entry.uid}/${entry.gname || entry.gid}`;
    const size =
      entry.type === 'char-device' || entry.type === 'block-device' ? `${entry.devMajor},${entry.devMinor}` : String(entry.size);
    const used = owner.length + 1 + size.length;
    if (used > this.width) this.width = used;
    let line = `${modeString(entry)} ${owner} ${' '.repeat(this.width - used)}${size} ${localTime(entry.mtime)} ${tarQuote(archiveName(entry), this.utf8)}`;
    if (entry.type === 'symlink') line += ` -> ${tarQuote(entry.linkTarget!, this.utf8)}`;
    if (entry.type === 'hardlink') line += ` link to ${tarQuote(`./${entry.linkTarget}`, this.utf8)}`;
    return line;
  }
}
