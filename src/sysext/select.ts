// What goes into a system extension image: the files the packages (and their
// maintainer scripts) add to /usr or change there, as the checkout of what
// the composed commit adds to the base has them. A sysext overlays /usr (and
// /opt) alone: a file a package needs in /etc or /var, or an account it
// needs, cannot come with it, and the image is refused, naming the package
// and the path, unless the user leaves /etc out (--without-etc) for programs
// that run on their built-in defaults. Alternatives are the exception: a link
// in /usr that goes through /etc/alternatives is pointed at its choice
// directly, so the program answers to its generic name (vi, editor) without
// the /etc link the host does not have. The dpkg database stays the base's:
// an image that shadowed it would hide the base's own packages from dpkg
// after the next base update.

import { FACTORY, MERGED_USR, treePathOf } from '../vocabulary/ostree-paths.js';
import { RECORDS_DIR } from '../vocabulary/packages.js';
import { OLD_SYSUSERS_CONF, SYSUSERS_CONF, SYSUSERS_FILE } from '../scripts/sysusers.js';

export interface DeltaEntry {
  /** Absolute, in the commit (/usr/...). */
  path: string;
  kind: 'file' | 'directory' | 'symlink' | 'whiteout';
  /** A symlink's target, as stored. */
  target?: string;
}

export interface SysextInput {
  /** The package that ships each path, by its place in the tree (usr/etc/..., var/...), from the dpkg file lists the delta has (compose's ownersFromInfo: PKG, or PKG:ARCH). */
  owners: Map<string, string>;
  /** Where the composed commit keeps its dpkg database, relative to / (usr/lib/sysimage/dpkg). */
  databasePath: string;
  /** Accounts the maintainer scripts created (deblayer keeps them as sysusers.d lines). */
  newAccounts: string[];
  /** Leave out the /etc files rather than refuse them. */
  withoutEtc?: boolean;
}

export interface SysextContents {
  /** Paths to take out of the checkout before it is packed (whole subtrees). */
  remove: string[];
  /** Why no image can be made (empty when it can). */
  refusals: string[];
  /** Links through /etc/alternatives to point at their choice instead (absolute commit paths). */
  relink: { path: string; target: string }[];
  /** What is left out that the user should know of. */
  notes: string[];
}

const ALTERNATIVES = '/etc/alternatives/';

/**
 * Where a link through /etc/alternatives ends, following alternatives that
 * lead to others; at one the image does not set, the host's own. Undefined
 * for a loop.
 */
function choiceOf(target: string, alternatives: Map<string, string>, used: Set<string>): string | undefined {
  let next = target;
  for (let hops = 0; hops < 8; hops++) {
    if (!next.startsWith(ALTERNATIVES)) return next;
    const name = next.slice(ALTERNATIVES.length);
    const chosen = alternatives.get(name);
    if (chosen === undefined) return next;
    used.add(name);
    next = chosen;
  }
  return undefined;
}

/** Whether an extension can carry PATH: /usr and /opt, and the merged-/usr links into /usr. */
function inExtension(path: string): boolean {
  return ['usr', 'opt', ...MERGED_USR].some((top) => path.startsWith(`/${top}/`));
}

/**
 * Caches the host makes again: ld.so finds libraries of the standard
 * directories without ld.so.cache, and man-db's timer indexes new pages in
 * /var/cache/man.
 */
const GENERATED = (path: string) => path === '/etc/ld.so.cache' || path.startsWith('/var/cache/');

/**
 * Records of /etc files kept by the tools that manage them (deb-systemd-helper's
 * enabled units, ucf's registry): they mean something only beside those
 * files, which are judged as /etc files.
 */
const ETC_BOOKKEEPING = /^\/var\/lib\/(systemd\/deb-systemd-(user-)?helper-(enabled|masked)|ucf)\//;

export function sysextContents(entries: DeltaEntry[], input: SysextInput): SysextContents {
  const out: SysextContents = { remove: [], refusals: [], relink: [], notes: [] };
  const outside = { etc: new Map<string, string[]>(), var: new Map<string, string[]>() };
  // The alternatives the packages set (/etc/alternatives/NAME -> choice), by NAME.
  const alternatives = new Map<string, string>();
  for (const e of entries) {
    if (e.kind === 'symlink' && e.target && e.path.startsWith(`/usr${ALTERNATIVES}`)) alternatives.set(e.path.slice(`/usr${ALTERNATIVES}`.length), e.target);
  }
  const used = new Set<string>();
  const removedFromBase: string[] = [];
  // /etc defaults and /var's factory copies are not /usr content: never packed.
  const elsewhere = ['/usr/etc', `/${FACTORY}`];
  // deblayer's package records describe the dpkg database the image leaves out.
  const internal = [`/${input.databasePath}`, '/usr/lib/sysimage/debconf', `/${RECORDS_DIR}`, `/usr/${SYSUSERS_CONF}`, `/usr/${OLD_SYSUSERS_CONF}`];
  const within = (path: string, top: string) => path === top || path.startsWith(`${top}/`);
  const packageOf = (debianPath: string) => input.owners.get(treePathOf(debianPath))?.replace(/:.*/, '');
  const owned = (debianPath: string) => {
    const owner = packageOf(debianPath);
    return owner ? `${owner} (${debianPath})` : `${debianPath} (made by a maintainer script)`;
  };
  const ownerOf = (debianPath: string) => packageOf(debianPath) ?? 'made by maintainer scripts';
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
      if (GENERATED(debianPath) || ETC_BOOKKEEPING.test(debianPath) || debianPath.startsWith(ALTERNATIVES)) continue;
      const where = top === '/usr/etc' ? outside.etc : outside.var;
      where.set(ownerOf(debianPath), [...(where.get(ownerOf(debianPath)) ?? []), debianPath]);
      continue;
    }
    if (e.kind === 'symlink' && e.target?.startsWith(ALTERNATIVES)) {
      const name = e.target.slice(ALTERNATIVES.length);
      if (!alternatives.has(name)) continue; // the base's alternative, which the host's /etc has
      const choice = choiceOf(e.target, alternatives, used);
      if (choice === undefined) out.refusals.push(`${e.path} is the alternative ${name}, whose choices make a loop`);
      else if (inExtension(choice) || choice.startsWith(ALTERNATIVES)) out.relink.push({ path: e.path, target: choice });
      else out.refusals.push(`${e.path} is the alternative ${name}, whose choice ${choice} is outside /usr and /opt`);
      continue;
    }
    if (internal.some((t) => e.path === t)) {
      out.remove.push(e.path);
      continue;
    }
    if (e.kind !== 'directory' && SYSUSERS_FILE.test(e.path)) {
      out.refusals.push(`${owned(e.path)} declares accounts, which a system extension cannot create`);
    }
  }
  const named = (byOwner: Map<string, string[]>) =>
    [...byOwner].map(([owner, paths]) => `${owner}: ${paths.slice(0, 3).join(', ')}${paths.length > 3 ? ` and ${paths.length - 3} more` : ''}`).join('; ');
  const places: string[] = [];
  if (outside.etc.size > 0 && input.withoutEtc) out.notes.push(`left out, as --without-etc asks (the programs run without them): ${named(outside.etc)}`);
  else if (outside.etc.size > 0) places.push(`files in /etc, where a system extension puts nothing (${named(outside.etc)}); --without-etc leaves them out, for programs that run without them`);
  if (outside.var.size > 0) places.push(`files in /var, where a system extension puts nothing (${named(outside.var)})`);
  out.refusals.unshift(...places);
  const unused = [...alternatives.keys()].filter((n) => !used.has(n));
  if (unused.length > 0) out.notes.push(`the host's /etc/alternatives keeps its own choice for ${unused.join(', ')} (an extension cannot change it)`);
  if (input.newAccounts.length > 0) out.refusals.push(`accounts that maintainer scripts create (${input.newAccounts.join(', ')}), which a system extension cannot carry`);
  if (removedFromBase.length > 0) out.notes.push(`kept as the base has them (an extension adds to /usr, it cannot remove): ${removedFromBase.join(', ')}`);
  return out;
}
