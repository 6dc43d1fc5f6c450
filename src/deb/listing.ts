// The `tar -tv` style listing that `dpkg-deb -c` prints, so users can compare
// deblayer's view of a package with dpkg's line by line.

import type { DebEntry } from './entry.js';

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

export function archiveName(entry: DebEntry): string {
  if (entry.path === '') return './';
  return `./${entry.path}${entry.type === 'directory' ? '/' : ''}`;
}

/** Formats entries one line at a time; keeps GNU tar's growing owner/size column. */
export class ListingFormatter {
  private width = 19;

  line(entry: DebEntry): string {
    const owner = `${entry.uname || entry.uid}/${entry.gname || entry.gid}`;
    const size =
      entry.type === 'char-device' || entry.type === 'block-device' ? `${entry.devMajor},${entry.devMinor}` : String(entry.size);
    const used = owner.length + 1 + size.length;
    if (used > this.width) this.width = used;
    let line = `${modeString(entry)} ${owner} ${' '.repeat(this.width - used)}${size} ${localTime(entry.mtime)} ${archiveName(entry)}`;
    if (entry.type === 'symlink') line += ` -> ${entry.linkTarget}`;
    if (entry.type === 'hardlink') line += ` link to ./${entry.linkTarget}`;
    return line;
  }
}
