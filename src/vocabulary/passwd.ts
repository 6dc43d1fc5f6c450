// passwd(5) and group(5) lines, NAME:PASSWORD:ID:...: read where deblayer
// names numeric owners and where it compares the accounts scripts made.

export interface PasswdEntry {
  name: string;
  /** The uid or gid as written. */
  id: string;
  /** Every field of the line. */
  fields: string[];
}

/** The entries of a passwd or group text in order; comments and lines of fewer than three fields are left out. */
export function passwdEntries(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 3 || f[0] === '' || line.startsWith('#')) continue;
    out.push({ name: f[0]!, id: f[2]!, fields: f });
  }
  return out;
}
