// systemd-tmpfiles lines (tmpfiles.d(5)): how content that an OSTree commit
// cannot carry (everything under /var, and /run) is recreated on the host.

import { escapedByte } from './file-names.js';

export type TmpfilesType = 'd' | 'f' | 'z' | 'L' | 'C' | 'p' | 'c' | 'b';

export interface TmpfilesLine {
  type: TmpfilesType;
  /** Absolute path on the booted host, e.g. '/var/lib/foo'. */
  path: string;
  /** Octal mode, e.g. '0755' or '2775'. */
  mode?: string;
  user?: string;
  group?: string;
  /** Symlink target, copy source, or 'MAJOR:MINOR' for device nodes. */
  argument?: string;
}

// tmpfiles.d splits on whitespace and expands '%' specifiers; C-style escapes
// are decoded in paths and arguments, so anything unusual is written as \xNN.
function escapeField(value: string): string {
  let out = '';
  for (const ch of value) {
    // A byte that is not UTF-8 (escaped by names.ts) is written back as that byte.
    const byte = escapedByte(ch);
    if (ch === '%') out += '%%';
    else if (byte !== undefined) out += '\\x' + byte.toString(16);
    else if (ch === '\\' || ch === '"' || ch === "'" || /\s/.test(ch) || ch.charCodeAt(0) < 0x20) {
      out += ch
        .split('')
        .map((c) => '\\x' + c.charCodeAt(0).toString(16).padStart(2, '0'))
        .join('');
    } else out += ch;
  }
  return out;
}

/** True for a line type (with its modifiers, such as `d-` or `D!`) that makes a directory. */
export function makesDirectory(type: string): boolean {
  return /^[dDvqQ][+!=~^-]*$/.test(type);
}

/** The lines of a tmpfiles.d file as written (comments and blank lines aside): type (with modifiers), path, mode. */
export function declaredLines(text: string): { type: string; path: string; mode?: string }[] {
  const lines: { type: string; path: string; mode?: string }[] = [];
  for (const line of text.split('\n')) {
    const [type, path, mode] = line.trim().split(/\s+/);
    if (type && path && !type.startsWith('#')) lines.push({ type, path, ...(mode !== undefined ? { mode } : {}) });
  }
  return lines;
}

/** The paths a tmpfiles.d file's lines name (comments and blank lines aside). */
export function declaredPaths(text: string): string[] {
  return declaredLines(text).map((l) => l.path);
}

export function formatTmpfilesLine(line: TmpfilesLine): string {
  const fields = [
    line.type,
    escapeField(line.path),
    line.mode ?? '-',
    line.user ? escapeField(line.user) : '-',
    line.group ? escapeField(line.group) : '-',
    '-',
  ];
  if (line.argument !== undefined) fields.push(escapeField(line.argument));
  return fields.join(' ');
}

export function formatTmpfilesConf(header: string, lines: TmpfilesLine[]): string {
  const comment = header
    .split('\n')
    .map((l) => `# ${l}`)
    .join('\n');
  return `${comment}\n${lines.map(formatTmpfilesLine).join('\n')}\n`;
}

export function octalMode(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}
