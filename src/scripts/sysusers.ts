// Users and groups that scripts created, carried to the booted host as
// sysusers.d lines. ostree's 3-way merge of /etc keeps the host's own
// /etc/passwd and /etc/group (any host that ever added a user has changed
// them), so accounts written into the commit's /usr/etc would be lost there;
// systemd-sysusers creates those of usr/lib/sysusers.d/ at boot instead.
// The sandbox starts from the host's accounts (the deployment being layered
// on), so an account the host has already is reused by adduser with its ids,
// and the lines say the same ids on every recomposition.

export const SYSUSERS_CONF = 'lib/sysusers.d/deblayer.conf';

interface Entry {
  name: string;
  id: string;
  fields: string[];
}

function parse(text: string): Map<string, Entry> {
  const out = new Map<string, Entry>();
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 3 || f[0] === '' || line.startsWith('#')) continue;
    out.set(f[0]!, { name: f[0]!, id: f[2]!, fields: f });
  }
  return out;
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
 * users, new members). PREVIOUS: the lines deblayer wrote for the deployment
 * layered on, kept for accounts that still exist (the host may have them now,
 * from booting it, so the scripts found them and made nothing new).
 */
export function sysusersLines(before: AccountFiles, after: AccountFiles, previous = ''): string[] {
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
    if (!old) groups.push(`g ${g.name} ${g.id}`);
    const was = new Set((old?.fields[3] ?? '').split(',').filter((m) => m !== ''));
    for (const m of (g.fields[3] ?? '').split(',').filter((x) => x !== '')) if (!was.has(m)) members.push(`m ${m} ${g.name}`);
  }
  for (const u of usersAfter.values()) {
    if (usersBefore.has(u.name)) continue;
    const [, , uid, gid, gecos = '', home = '', shell = ''] = u.fields;
    const group = gidName.get(gid!) ?? gid;
    users.push(`u ${u.name} ${uid}:${group} ${quote(gecos.split(',')[0]!)} ${home || '-'} ${shell || '-'}`);
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
