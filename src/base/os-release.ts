// os-release(5): KEY=value lines, values optionally quoted with shell rules.

export type OsRelease = Record<string, string>;

export function parseOsRelease(text: string): OsRelease {
  const out: OsRelease = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    let value = line.slice(eq + 1);
    const q = value[0];
    if ((q === '"' || q === "'") && value.endsWith(q) && value.length >= 2) {
      value = value.slice(1, -1);
      if (q === '"') value = value.replace(/\\([\\$"`])/g, '$1');
    }
    out[line.slice(0, eq)] = value;
  }
  return out;
}

export function describeOs(os: OsRelease): string {
  return os.PRETTY_NAME ?? ([os.NAME, os.VERSION].filter(Boolean).join(' ') || 'unknown OS');
}
