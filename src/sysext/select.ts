// What goes into a system extension image: the files the packages (and their
// maintainer scripts) add to /usr or change there, as the checkout of what
// the composed commit adds to the base has them. A sysext overlays /usr (and
// /opt) alone: a file a package needs in /etc or /var, or an account it
// needs, cannot come with it, and the image is refused, naming the package
// and the path. The dpkg database stays the base's: an image that shadowed it
// would hide the base's own packages from dpkg after the next base update.

import { FACTORY } from '../vocabulary/ostree-paths.js';
import { OLD_SYSUSERS_CONF, SYSUSERS_CONF } from '../scripts/sysusers.js';

export interface DeltaEntry {
  /** Absolute, in the commit (/usr/...). */
  path: string;
  kind: 'file' | 'directory' | 'symlink' | 'whiteout';
}

export interface SysextInput {
  /** The package that ships each Debian path (/etc/..., /var/...), from the packages' file lists. */
  owners: Map<string, string>;
  /** Where the composed commit keeps its dpkg database, relative to / (usr/lib/sysimage/dpkg). */
  databasePath: string;
  /** Accounts the maintainer scripts created (deblayer keeps them as sysusers.d lines). */
  newAccounts: string[];
}

export interface SysextContents {
  /** Paths to take out of the checkout before it is packed (whole subtrees). */
  remove: string[];
  /** Why no image can be made (empty when it can). */
  refusals: string[];
  /** What is left out that the user should know of. */
  notes: string[];
}

/** Written by ldconfig's trigger: ld.so finds libraries of the standard directories without it. */
const GENERATED = new Set(['/etc/ld.so.cache']);

export function sysextContents(entries: DeltaEntry[], input: SysextInput): SysextContents {
  const out: SysextContents = { remove: [], refusals: [], notes: [] };
  const outside = new Map<string, string[]>();
  const removedFromBase: string[] = [];
  // /etc defaults and /var's factory copies are not /usr content: never packed.
  const elsewhere = ['/usr/etc', `/${FACTORY}`];
  const internal = [`/${input.databasePath}`, '/usr/lib/sysimage/debconf', `/usr/${SYSUSERS_CONF}`, `/usr/${OLD_SYSUSERS_CONF}`];
  const within = (path: string, top: string) => path === top || path.startsWith(`${top}/`);
  const owned = (debianPath: string) => {
    const owner = input.owners.get(debianPath);
    return owner ? `${owner} (${debianPath})` : `${debianPath} (made by a maintainer script)`;
  };
  const ownerOf = (debianPath: string) => input.owners.get(debianPath) ?? 'made by maintainer scripts';
  for (const e of entries) {
    if (e.kind === 'whiteout') {
      removedFromBase.push(e.path);
      out.remove.push(e.path);
      continue;
    }
    const top = elsewhere.find((t) => within(e.path, t));
    if (top) {
      if (e.path === top) out.remove.push(top);
      if (e.kind === 'directory') continue;
      const debianPath = top === '/usr/etc' ? e.path.slice('/usr'.length) : e.path.slice(FACTORY.length + 1);
      if (!GENERATED.has(debianPath)) outside.set(ownerOf(debianPath), [...(outside.get(ownerOf(debianPath)) ?? []), debianPath]);
      continue;
    }
    if (internal.some((t) => e.path === t)) {
      out.remove.push(e.path);
      continue;
    }
    if (e.kind !== 'directory' && /^\/usr\/lib\/sysusers\.d\/[^/]+\.conf$/.test(e.path)) {
      out.refusals.push(`${owned(e.path)} declares accounts, which a system extension cannot create`);
    }
  }
  if (outside.size > 0) {
    const named = [...outside].map(([owner, paths]) => `${owner}: ${paths.slice(0, 3).join(', ')}${paths.length > 3 ? ` and ${paths.length - 3} more` : ''}`);
    out.refusals.unshift(`files outside /usr and /opt, where a system extension puts nothing (${named.join('; ')})`);
  }
  if (input.newAccounts.length > 0) out.refusals.push(`accounts that maintainer scripts create (${input.newAccounts.join(', ')}), which a system extension cannot carry`);
  if (removedFromBase.length > 0) out.notes.push(`kept as the base has them (an extension adds to /usr, it cannot remove): ${removedFromBase.join(', ')}`);
  return out;
}
