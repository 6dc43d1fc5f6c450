// Names for numeric owners, read from a tree's own passwd and group files, so
// that tmpfiles.d lines name users the way the tree knows them.

import { readTextIfPresent } from '../read-text.js';
import { passwdEntries } from '../vocabulary/passwd.js';

export interface Accounts {
  user(uid: number): string;
  group(gid: number): string;
}

/** uid or gid -> name, from a passwd or group text (the first name of an id wins). */
function ids(text: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const e of passwdEntries(text)) {
    if (/^\d+$/.test(e.id) && !out.has(Number(e.id))) out.set(Number(e.id), e.name);
  }
  return out;
}

/** Accounts named in PASSWD and GROUP texts; unknown ids stay numeric. */
export function accountsOf(passwd: string, group: string): Accounts {
  const users = ids(passwd);
  const groups = ids(group);
  return {
    user: (uid) => users.get(uid) ?? String(uid),
    group: (gid) => groups.get(gid) ?? String(gid),
  };
}

/** Accounts of the tree whose /etc is at ETC. */
export function treeAccounts(etc: string): Accounts {
  return accountsOf(readTextIfPresent(`${etc}/passwd`), readTextIfPresent(`${etc}/group`));
}

/** A user or group that maintainer scripts created: its id, and its passwd or group entry. */
export interface KnownAccount {
  kind: 'user' | 'group';
  name: string;
  id: number;
  entry: string;
}
