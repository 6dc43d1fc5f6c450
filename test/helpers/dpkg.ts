// What the real dpkg tools say about a package, for comparison with deblayer.

import { execa } from 'execa';
import { decodeName } from '../../src/vocabulary/file-names.js';

export async function dpkgDebExtract(deb: string, dir: string): Promise<void> {
  await execa('dpkg-deb', ['-x', deb, dir], { env: { LC_ALL: 'C' } });
}

/** Decode GNU tar's default 'escape' quoting (octal bytes, \t, \n, \\). */
function unescapeTarName(s: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\') {
      bytes.push(...Buffer.from(c, 'utf8'));
      continue;
    }
    const next = s[i + 1]!;
    if (/[0-7]/.test(next)) {
      bytes.push(parseInt(s.slice(i + 1, i + 4), 8));
      i += 3;
    } else {
      bytes.push(({ t: 9, n: 10, '\\': 92, a: 7, b: 8, f: 12, r: 13, v: 11 } as Record<string, number>)[next] ?? next.charCodeAt(0));
      i += 1;
    }
  }
  return decodeName(Buffer.from(bytes));
}

function normalise(name: string): string {
  const n = name.replace(/^\.\//, '').replace(/\/$/, '');
  return n === '' || n === '.' ? '.' : n;
}

export interface TarListEntry {
  path: string;
  typeChar: string;
  uid: number;
  gid: number;
}

/** Numeric owners as `dpkg-deb --fsys-tarfile | tar -tv --numeric-owner` reports them. */
export async function tarNumericListing(deb: string): Promise<TarListEntry[]> {
  const { stdout } = await execa('sh', ['-c', 'dpkg-deb --fsys-tarfile "$1" | tar -tv --numeric-owner', 'sh', deb], {
    env: { LC_ALL: 'C', TZ: 'UTC' },
    maxBuffer: 256 * 1024 * 1024,
  });
  const out: TarListEntry[] = [];
  for (const line of stdout.split('\n')) {
    if (!line) continue;
    const m = /^(\S{10}) (\d+)\/(\d+)\s+(\d+(?:,\s*\d+)?)\s+\d{4}-\d\d-\d\d \d\d:\d\d (.*)$/.exec(line);
    if (!m) throw new Error(`cannot parse tar listing line: ${line}`);
    const typeChar = m[1]![0]!;
    let name = m[5]!;
    if (typeChar === 'l') name = name.slice(0, name.indexOf(' -> '));
    if (typeChar === 'h') name = name.slice(0, name.indexOf(' link to '));
    out.push({ path: normalise(unescapeTarName(name)), typeChar, uid: Number(m[2]), gid: Number(m[3]) });
  }
  return out;
}
