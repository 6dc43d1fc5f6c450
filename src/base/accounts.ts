// Names for numeric owners, read from a tree's own passwd and group files, so
// that tmpfiles.d lines name users the way the tree knows them.

import { readFileSync } from 'node:fs';

export interface Accounts {
  user(uid: number): string;
  group(gid: number): string;
}

function readIds(file: string): Map<number, string> {
  const ids = new Map<number, string>();
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    // A tree without the file names nobody; one that cannot be read is an error, not an empty file.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return ids;
    throw err;
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length >= 3 && /^\d+$/.test(f[2]!) && !ids.has(Number(f[2]))) ids.set(Number(f[2]), f[0]!);
  }
  return ids;
}

/** Accounts of the tree whose /etc is at ETC; unknown ids stay numeric. */
export function treeAccounts(etc: string): Accounts {
  const users = readIds(`${etc}/passwd`);
  const groups = readIds(`${etc}/group`);
  return {
    user: (uid) => users.get(uid) ?? String(uid),
    group: (gid) => groups.get(gid) ?? String(gid),
  };
}

/** A user or group that maintainer scripts created: its id, and its passwd or group entry. */
export interface KnownAccount {
  kind: 'user' | 'group';
  name: string;
  id: number;
  entry: string;
}
