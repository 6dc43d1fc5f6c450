// How deblayer names packages wherever they appear: apt's request specs
// (NAME, NAME=VERSION, NAME:ARCH), dpkg's NAME_VERSION_ARCH for local files,
// the package cache's refs, and the layer-state refs. And the record of a
// package that every stage after the import reads (PackageRecord).
//
// This folder is the bottom of the tree: it imports nothing of deblayer's.

import type { TmpfilesLine } from './tmpfiles.js';

export interface PackageId {
  name: string;
  version: string;
  architecture: string;
}

const SPEC = /^[a-z0-9][a-z0-9+.-]+(:[a-z0-9-]+)?(=[A-Za-z0-9.+~:-]+)?$/;

/** A request spec apt takes: NAME, NAME=VERSION or NAME:ARCH (Debian's package-name syntax). */
export function isPackageSpec(text: string): boolean {
  return SPEC.test(text);
}

/** A local package file is named by a path: it has a '/' or ends in .deb (as with apt). */
export function isLocalFile(arg: string): boolean {
  return arg.includes('/') || arg.endsWith('.deb');
}

/** A name ostree takes for a ref: components of letters, digits, '.', '_' and '-', joined by '/'. */
export function isRefName(text: string): boolean {
  return /^[\w.-]+(\/[\w.-]+)*$/.test(text);
}

/** The package name of a request spec (NAME, NAME=VERSION or NAME:ARCH). */
export function specName(spec: string): string {
  return spec.replace(/[=:].*$/, '');
}

/** The version a request spec pins (NAME=VERSION), if any. */
export function specVersion(spec: string): string | undefined {
  return /=(.+)$/.exec(spec)?.[1];
}

/** A layer state's packages as its commit metadata lists them (deblayer.packages): NAME=VERSION, space-separated. */
export function formatStatePackages(packages: { name: string; version: string }[]): string {
  return packages.map((p) => `${p.name}=${p.version}`).join(' ');
}

/** The packages of a deblayer.packages value; none for a commit without one (a base). */
export function parseStatePackages(value: unknown): { name: string; version: string }[] {
  if (typeof value !== 'string') return [];
  return value
    .split(' ')
    .filter((x) => x !== '')
    .map((p) => {
      const eq = p.indexOf('=');
      return { name: p.slice(0, eq), version: p.slice(eq + 1) };
    });
}

/** A local package as origins and the local-package store name it: NAME_VERSION_ARCH. */
export function localId(p: PackageId): string {
  return `${p.name}_${p.version}_${p.architecture}`;
}

/** The package name of a local id (NAME_VERSION_ARCH). */
export function localIdName(id: string): string {
  return id.replace(/_.*$/, '');
}

/** The version of a local id (NAME_VERSION_ARCH: neither names nor versions have '_'). */
export function localIdVersion(id: string): string {
  return id.split('_')[1] ?? '';
}

// ostree refs allow [\w.-] in a component: the other characters of Debian
// versions (+ ~ :) and '_' itself are written as _XX, reversibly.
export function escapeRefComponent(text: string): string {
  return text.replace(/[^A-Za-z0-9.-]/g, (c) => `_${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

export const PACKAGE_REFS = 'deblayer/pkg';

/** Where a commit keeps the record of each package deblayer unpacked into it (NAME_ARCH.json): see compose/package-cache.ts. */
export const RECORDS_DIR = 'usr/share/deblayer/packages';

export function recordPath(name: string, architecture: string): string {
  return `${RECORDS_DIR}/${name}_${architecture}.json`;
}

/** The package cache's ref of one package version: deblayer/pkg/NAME/VERSION_ARCH. */
export function packageRef(name: string, version: string, architecture: string): string {
  return `${PACKAGE_REFS}/${escapeRefComponent(name)}/${escapeRefComponent(version)}_${escapeRefComponent(architecture)}`;
}

/** The package cache's refs of NAME at VERSION, any architecture, start with this. */
export function packageRefPrefix(name: string, version: string): string {
  return `${PACKAGE_REFS}/${escapeRefComponent(name)}/${escapeRefComponent(version)}_`;
}

export const STATE_REFS = 'deblayer/state';

/** The ref that keeps layer state N's commit (what rollback --to N deploys). */
export function stateRef(n: number): string {
  return `${STATE_REFS}/${n}`;
}

/** N of deblayer/state/N; 0 for anything else. */
export function stateNumber(ref: string): number {
  return Number(ref.split('/').pop()) || 0;
}

export interface Conffile {
  path: string;
  /** Flags dpkg understands before the path, e.g. 'remove-on-upgrade'. */
  flags: string[];
}

/** What unpacking a package gives the dpkg database and the host. */
export interface PackageFiles {
  package: string;
  version: string;
  architecture: string;
  /** Original paths as dpkg lists them in info/PACKAGE.list: '/.', '/usr', '/usr/bin/foo', ... */
  files: string[];
  /** Original absolute path -> md5 (the package's md5sums, or computed while unpacking when it has none). */
  md5sums: Record<string, string>;
  conffiles: Conffile[];
  /** Lines recreating what the commit cannot carry; also written to `tmpfilesConf`. */
  tmpfiles: TmpfilesLine[];
  /** Path of the tmpfiles.d fragment inside the layer tree, when there are lines. */
  tmpfilesConf?: string;
  /** The paths the package's own usr/lib/tmpfiles.d files declare. */
  tmpfilesDeclared: string[];
}

export interface ControlMember {
  name: string;
  mode: number;
  /** base64 */
  data: string;
}

/** The record of a package in the package cache (its commit's record file). */
export interface PackageRecord extends Omit<PackageFiles, 'tmpfilesDeclared'> {
  /** Absent in the records of packages imported by an older deblayer. */
  tmpfilesDeclared?: string[];
  /** The control file as shipped. */
  controlText: string;
  /** Every control.tar member but `control` (dpkg keeps them as info/PKG.NAME). */
  members: ControlMember[];
  multiArchSame: boolean;
  /** md5 of each conffile as unpacked (the Conffiles field of dpkg's status). */
  conffileMd5: Record<string, string>;
}

/** dpkg's ordering of Debian versions (EPOCH:UPSTREAM-REVISION): negative, zero or positive, as dpkg --compare-versions. */
export function compareVersions(a: string, b: string): number {
  const split = (v: string) => {
    const colon = v.indexOf(':');
    const epoch = colon >= 0 ? Number(v.slice(0, colon)) : 0;
    const rest = colon >= 0 ? v.slice(colon + 1) : v;
    const dash = rest.lastIndexOf('-');
    return { epoch, upstream: dash >= 0 ? rest.slice(0, dash) : rest, revision: dash >= 0 ? rest.slice(dash + 1) : '' };
  };
  const x = split(a);
  const y = split(b);
  return x.epoch - y.epoch || verrevcmp(x.upstream, y.upstream) || verrevcmp(x.revision, y.revision);
}

const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';

// dpkg's order(): '~' sorts before everything, even the end of the string; letters before other characters.
function charOrder(c: string | undefined): number {
  if (c === undefined || isDigit(c)) return 0;
  if (c === '~') return -1;
  if (/[A-Za-z]/.test(c)) return c.charCodeAt(0);
  return c.charCodeAt(0) + 256;
}

// dpkg's verrevcmp (lib/dpkg/version.c): alternating runs of non-digits and numbers.
function verrevcmp(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while ((i < a.length && !isDigit(a[i])) || (j < b.length && !isDigit(b[j]))) {
      const d = charOrder(a[i]) - charOrder(b[j]);
      if (d !== 0) return d;
      i++;
      j++;
    }
    while (a[i] === '0') i++;
    while (b[j] === '0') j++;
    let first = 0;
    while (isDigit(a[i]) && isDigit(b[j])) {
      if (first === 0) first = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (isDigit(a[i])) return 1;
    if (isDigit(b[j])) return -1;
    if (first !== 0) return first;
  }
  return 0;
}
