// Users and groups that scripts created, carried to the booted host as
// sysusers.d lines. ostree's 3-way merge of /etc keeps the host's own
// /etc/passwd and /etc/group (any host that ever added a user has changed
// them), so accounts written into the commit's /usr/etc would be lost there;
// systemd-sysusers creates those of usr/lib/sysusers.d/ at boot instead.
//
// An account keeps one id for the life of the sysroot: the ids that scripts
// gave are recorded (the layer database), and every later transaction seeds
// them into the sandbox before the scripts run, so adduser finds the account
// and the files made for it carry the same id, whatever the order in which
// packages are configured. The lines pin those ids, and are read first (the
// file name sorts first): systemd-sysusers then never hands a pinned id to
// another account. A package that declares one of these accounts in its own
// sysusers.d file (dbus: messagebus) would get another id at boot, and a
// second line for the same account is a conflict that sysusers ignores with
// a warning: such a file is overridden in /etc/sysusers.d (same name, the
// precedence sysusers.d gives /etc) by a copy without those declarations.

import type { KnownAccount } from '../base/accounts.js';
import { passwdEntries, type PasswdEntry } from '../vocabulary/passwd.js';

export const SYSUSERS_CONF = 'lib/sysusers.d/00-deblayer.conf';
/** Where earlier deblayer versions wrote the lines: read for the accounts of the states they made. */
export const OLD_SYSUSERS_CONF = 'lib/sysusers.d/deblayer.conf';

/** A sysusers.d file of a commit (/usr/lib/sysusers.d/NAME.conf), as ostree diff and a checkout name it. */
export const SYSUSERS_FILE = /^\/usr\/lib\/sysusers\.d\/[^/]+\.conf$/;

function parse(text: string): Map<string, PasswdEntry> {
  return new Map(passwdEntries(text).map((e) => [e.name, e]));
}

function quote(text: string): string {
  return text === '' ? '-' : `"${text.replace(/["\\]/g, '\\$&')}"`;
}

export interface AccountFiles {
  passwd: string;
  group: string;
}

/**
 * sysusers.d lines for what AFTER has that BEFORE had not (new groups, new
 * users, new members), and for the accounts KEEP names ('u NAME', 'g NAME':
 * those of the sysroot's record, which the host may have already). PREVIOUS:
 * the lines deblayer wrote for the deployment layered on, kept for accounts
 * that still exist (the host may have them now, from booting it, so the
 * scripts found them and made nothing new).
 */
export function sysusersLines(before: AccountFiles, after: AccountFiles, previous = '', keep: Set<string> = new Set()): string[] {
  const groupsBefore = parse(before.group);
  const groupsAfter = parse(after.group);
  const usersBefore = parse(before.passwd);
  const usersAfter = parse(after.passwd);
  const gidName = new Map([...groupsAfter.values()].map((g) => [g.id, g.name]));
  const groups: string[] = [];
  const users: string[] = [];
  const members: string[] = [];
  for (const g of groupsAfter.values()) {
    const old = groupsBefore.get(g.name);
    if (!old || keep.has(`g ${g.name}`)) groups.push(`g ${g.name} ${g.id}`);
    const was = new Set((old?.fields[3] ?? '').split(',').filter((m) => m !== ''));
    for (const m of (g.fields[3] ?? '').split(',').filter((x) => x !== '')) if (!was.has(m)) members.push(`m ${m} ${g.name}`);
  }
  for (const u of usersAfter.values()) {
    if (usersBefore.has(u.name) && !keep.has(`u ${u.name}`)) continue;
    const [, , uid, gid, gecos = '', home = '', shell = ''] = u.fields;
    const group = gidName.get(gid!) ?? gid;
    users.push(`u ${u.name} ${uid}:${group} ${quote(gecos)} ${home || '-'} ${shell || '-'}`);
  }
  const lines = [...groups, ...users, ...members];
  const named = new Set(lines.map((l) => `${l.split(' ')[0]} ${l.split(' ')[1]}`));
  for (const line of previous.split('\n')) {
    const [type, name, ...rest] = line.trim().split(/\s+/);
    if (!type || !name || !/^[gum]$/.test(type) || named.has(`${type} ${name}`)) continue;
    const exists = type === 'g' ? groupsAfter.has(name) : usersAfter.has(name);
    if (exists && (type !== 'm' || groupsAfter.has(rest[0] ?? ''))) lines.push(line.trim());
  }
  // Groups first: a user line may name one.
  const order = { g: 0, u: 1, m: 2 } as Record<string, number>;
  return lines.sort((a, b) => order[a[0]!]! - order[b[0]!]!);
}

export function formatSysusers(lines: string[]): string {
  return `# Written by deblayer: users and groups the layered packages' scripts created.\n${lines.join('\n')}\n`;
}

/** The accounts the u and g LINES name, with their entries as AFTER has them. */
export function accountsOfLines(lines: string[], after: AccountFiles): KnownAccount[] {
  const users = parse(after.passwd);
  const groups = parse(after.group);
  const out: KnownAccount[] = [];
  for (const line of lines) {
    const [type, name] = line.split(' ');
    const e = type === 'u' ? users.get(name!) : type === 'g' ? groups.get(name!) : undefined;
    if (e && /^\d+$/.test(e.id)) out.push({ kind: type === 'u' ? 'user' : 'group', name: name!, id: Number(e.id), entry: e.fields.join(':') });
  }
  return out;
}

/** The fields of a sysusers.d line: words, or "quoted text" (with \\ escapes). */
function words(line: string): string[] {
  const out: string[] = [];
  for (const m of line.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]!);
  return out;
}

/** The users and groups that sysusers.d TEXT declares (u, g and m lines), by name. */
export function sysusersNames(text: string): Set<string> {
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    const [type, name] = words(line.trim());
    if ((type === 'u' || type === 'g' || type === 'm') && name) out.add(name);
  }
  return out;
}

/**
 * The accounts of sysusers.d lines deblayer wrote (a state made before the
 * sysroot kept its record), as entries; HOSTGROUP resolves a user's group
 * that the lines do not declare.
 */
export function accountsOfSysusers(text: string, hostGroup: string): KnownAccount[] {
  const gids = new Map([...parse(hostGroup).values()].map((e) => [e.name, Number(e.id)]));
  const out: KnownAccount[] = [];
  for (const line of text.split('\n')) {
    const [type, name, id] = words(line.trim());
    if (type === 'g' && name && id && /^\d+$/.test(id)) {
      gids.set(name, Number(id));
      out.push({ kind: 'group', name, id: Number(id), entry: `${name}:x:${id}:` });
    }
  }
  for (const line of text.split('\n')) {
    const [type, name, id, gecos, home, shell] = words(line.trim());
    const m = /^(\d+):(.+)$/.exec(id ?? '');
    if (type !== 'u' || !name || !m) continue;
    const gid = /^\d+$/.test(m[2]!) ? Number(m[2]) : gids.get(m[2]!);
    if (gid === undefined) continue;
    const field = (v: string | undefined) => (v === undefined || v === '-' ? '' : v);
    out.push({ kind: 'user', name, id: Number(m[1]), entry: [name, 'x', m[1], gid, field(gecos), field(home), field(shell)].join(':') });
  }
  return out;
}

export interface AccountTexts extends AccountFiles {
  shadow: string;
  gshadow: string;
}

/**
 * FILES with the KNOWN accounts they lack added, each with its recorded id,
 * unless a different account of FILES has that id (then the scripts choose
 * anew). Returns the new texts and the names added.
 */
export function seedAccounts(files: AccountTexts, known: KnownAccount[]): { files: AccountTexts; seeded: string[] } {
  const out = { ...files };
  const seeded: string[] = [];
  const append = (text: string, line: string) => `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}${line}\n`;
  const groups = parse(out.group);
  const gidsUsed = new Set([...groups.values()].map((e) => e.id));
  for (const g of known.filter((a) => a.kind === 'group')) {
    if (groups.has(g.name) || gidsUsed.has(String(g.id))) continue;
    out.group = append(out.group, g.entry);
    if (out.gshadow !== '') out.gshadow = append(out.gshadow, `${g.name}:!::${g.entry.split(':')[3] ?? ''}`);
    gidsUsed.add(String(g.id));
    seeded.push(`g ${g.name}`);
  }
  const users = parse(out.passwd);
  const uidsUsed = new Set([...users.values()].map((e) => e.id));
  for (const u of known.filter((a) => a.kind === 'user')) {
    const gid = u.entry.split(':')[3] ?? '';
    if (users.has(u.name) || uidsUsed.has(String(u.id)) || !gidsUsed.has(gid)) continue;
    out.passwd = append(out.passwd, u.entry);
    if (out.shadow !== '') out.shadow = append(out.shadow, `${u.name}:!*:::::::`);
    uidsUsed.add(String(u.id));
    seeded.push(`u ${u.name}`);
  }
  return { files: out, seeded };
}

const OVERRIDE_HEADER = (name: string) => `# Written by deblayer: /usr/lib/sysusers.d/${name} without the accounts whose ids this sysroot pinned.`;

/** True for an override overridesFor wrote for /usr/lib/sysusers.d/NAME (TEXT being the /etc/sysusers.d file's). */
export function isOverride(name: string, text: string): boolean {
  return text.startsWith(`${OVERRIDE_HEADER(name)}\n`);
}

/**
 * Overrides for sysusers.d files (name -> text, as the tree has them) that
 * declare a user or group LINES pin: the same file without those
 * declarations. Files that declare none need no override.
 */
export function overridesFor(files: Map<string, string>, lines: string[]): Map<string, string> {
  const pinned = new Set(lines.filter((l) => /^[ug] /.test(l)).map((l) => l.split(' ').slice(0, 2).join(' ')));
  const out = new Map<string, string>();
  for (const [name, text] of files) {
    let changed = false;
    const kept = text.split('\n').map((line) => {
      const [type, account] = words(line.trim());
      if (!type || !account || !pinned.has(`${type} ${account}`)) return line;
      changed = true;
      return `# ${line.trim()}    (deblayer: pinned in /usr/${SYSUSERS_CONF})`;
    });
    if (changed) out.set(name, `${OVERRIDE_HEADER(name)}\n${kept.join('\n')}`);
  }
  return out;
}
