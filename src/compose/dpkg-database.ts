// The dpkg database of a layered tree, written as dpkg writes it when it
// installs a package: a status paragraph "install ok installed" with the
// fields in dpkg's order, and info/PKG.list, .md5sums and every other control
// member (conffiles, scripts, triggers, shlibs, ...). The base's database is
// kept as it is; the layered packages are added to it, in its own location.

import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PackageRecord } from '../vocabulary/packages.js';
import { rawFields } from '../vocabulary/deb822.js';

// lib/dpkg/parse.c fieldinfos: the order dpkg writes known fields in; other
// fields (Homepage, Built-Using, ...) follow in the control file's order.
const FIELD_ORDER = [
  'Package', 'Essential', 'Protected', 'Status', 'Priority', 'Section', 'Installed-Size', 'Origin', 'Maintainer', 'Bugs',
  'Architecture', 'Multi-Arch', 'Source', 'Version', 'Config-Version', 'Replaces', 'Provides', 'Depends', 'Pre-Depends',
  'Recommends', 'Suggests', 'Breaks', 'Conflicts', 'Enhances', 'Conffiles', 'Description', 'Triggers-Pending', 'Triggers-Awaited',
];

/**
 * `unpacked`: as dpkg leaves a package it has unpacked but not configured, so
 * that `dpkg --configure --pending` configures it (the scripts stage). Its
 * conffiles keep their md5, not dpkg's `newconffile`: dpkg updates that hash
 * only for a conffile it finds as FILE.dpkg-new, and composition puts the
 * file in place itself, so `newconffile` stayed and `dpkg --verify` reported
 * every conffile of a configured package as changed (found with libnl-3-200).
 */
export function statusParagraph(record: PackageRecord, state: 'installed' | 'unpacked' = 'installed'): string {
  const fields = new Map(rawFields(record.controlText));
  fields.set('Status', `install ok ${state}`);
  if (record.conffiles.length > 0) {
    fields.set(
      'Conffiles',
      record.conffiles
        .map((c) => `\n ${c.path} ${record.conffileMd5[c.path] ?? 'newconffile'}${c.flags && c.flags.length > 0 ? ` ${c.flags.join(' ')}` : ''}`)
        .join(''),
    );
  }
  const known = FIELD_ORDER.filter((f) => fields.has(f));
  const others = [...fields.keys()].filter((f) => !FIELD_ORDER.includes(f));
  return [...known, ...others].map((f) => (fields.get(f)!.startsWith('\n') ? `${f}:${fields.get(f)}` : `${f}: ${fields.get(f)}`)).join('\n') + '\n';
}

/** info/ file prefix: PKG, or PKG:ARCH for Multi-Arch: same packages (as dpkg names them). */
export function infoName(record: PackageRecord): string {
  return record.multiArchSame ? `${record.package}:${record.architecture}` : record.package;
}

/** The base's status with the new paragraphs, sorted by package name as dpkg keeps it. */
export function mergeStatus(baseStatus: string, records: PackageRecord[], state: 'installed' | 'unpacked' = 'installed'): string {
  const paragraphs = baseStatus
    .split(/\n{2,}/)
    .map((p) => p.replace(/^\n+|\n+$/g, ''))
    .filter((p) => p !== '')
    .map((p) => ({ name: /^Package: (\S+)/m.exec(p)?.[1] ?? '', text: `${p}\n` }));
  for (const r of records) paragraphs.push({ name: r.package, text: statusParagraph(r, state) });
  paragraphs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return paragraphs.map((p) => p.text).join('\n');
}

/** Writes status and info files for RECORDS into ROOT/DATABASE (a staging tree that overlays the base). */
export function writeDpkgDatabase(
  root: string,
  database: string,
  baseStatus: string,
  records: PackageRecord[],
  state: 'installed' | 'unpacked' = 'installed',
): void {
  const dir = join(root, database);
  const info = join(dir, 'info');
  mkdirSync(info, { recursive: true });
  writeFileSync(join(dir, 'status'), mergeStatus(baseStatus, records, state), { mode: 0o644 });
  for (const r of records) {
    const prefix = join(info, infoName(r));
    writeFileSync(`${prefix}.list`, r.files.map((f) => `${f}\n`).join(''), { mode: 0o644 });
    // The package's own md5sums member is copied as it is (below); without
    // one, dpkg writes the sums it computed while unpacking.
    if (!r.members.some((m) => m.name === 'md5sums')) {
      const sums = Object.entries(r.md5sums)
        .map(([path, md5]) => `${md5}  ${path.replace(/^\//, '')}\n`)
        .join('');
      if (sums !== '') writeFileSync(`${prefix}.md5sums`, sums, { mode: 0o644 });
    }
    for (const m of r.members) {
      const file = `${prefix}.${m.name}`;
      writeFileSync(file, Buffer.from(m.data, 'base64'));
      chmodSync(file, m.mode & 0o7777);
    }
  }
}
