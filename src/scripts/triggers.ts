// Triggers for packages dpkg did not unpack itself. When dpkg unpacks a
// package it registers the package's trigger interests and activates the
// triggers its files and its triggers file name; here the files were put in
// place by composition, so deblayer does both, and `dpkg --configure
// --pending` then runs each interested package's `postinst triggered` once,
// at the end, as dpkg would (ldconfig, man-db, ca-certificates, ...).

import type { PackageRecord } from '../vocabulary/packages.js';
import { infoName } from '../compose/dpkg-database.js';

export interface TriggerDirectives {
  /** interest, interest-await, interest-noawait: [name, noawait] */
  interests: { name: string; noawait: boolean }[];
  /** activate, activate-await, activate-noawait */
  activates: string[];
}

export function triggersOf(record: PackageRecord): TriggerDirectives {
  const member = record.members.find((m) => m.name === 'triggers');
  const out: TriggerDirectives = { interests: [], activates: [] };
  if (!member) return out;
  for (const raw of Buffer.from(member.data, 'base64').toString('utf8').split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    const m = /^(interest|interest-await|interest-noawait|activate|activate-await|activate-noawait)\s+(\S+)/.exec(line);
    if (!m) continue;
    if (m[1]!.startsWith('interest')) out.interests.push({ name: m[2]!, noawait: m[1] === 'interest-noawait' });
    else out.activates.push(m[2]!);
  }
  return out;
}

/**
 * The new lines of triggers/File and of triggers/NAME (file name -> lines), as
 * dpkg's trig_file_interests_save and trig_cicb_interest_add write them.
 */
export function interestLines(records: PackageRecord[]): { file: string[]; named: Map<string, string[]> } {
  const file: string[] = [];
  const named = new Map<string, string[]>();
  for (const r of records) {
    for (const i of triggersOf(r).interests) {
      const who = `${infoName(r)}${i.noawait ? '/noawait' : ''}`;
      if (i.name.startsWith('/')) file.push(`${i.name} ${who}`);
      else named.set(i.name, [...(named.get(i.name) ?? []), who]);
    }
  }
  return { file, named };
}

/** The file triggers (paths) of a triggers/File text. */
export function fileTriggerPaths(fileText: string): string[] {
  return [...new Set(fileText.split('\n').map((l) => l.split(/\s+/)[0]!).filter((p) => p.startsWith('/')))];
}

/** Which triggers each package activates: its explicit ones, and the file triggers its paths fall under. */
export function activations(records: PackageRecord[], filePaths: string[]): { package: string; trigger: string }[] {
  const out: { package: string; trigger: string }[] = [];
  for (const r of records) {
    const names = new Set(triggersOf(r).activates);
    for (const p of filePaths) {
      const prefix = p.replace(/\/+$/, '');
      if (r.files.some((f) => f === prefix || f.startsWith(`${prefix}/`))) names.add(p);
    }
    for (const trigger of names) out.push({ package: infoName(r), trigger });
  }
  return out;
}

/** Does anything of these packages need dpkg: a script, a trigger, a file under a base file trigger? */
export function needsConfiguring(records: PackageRecord[], baseFileTriggers: string[], skip: string[] = []): boolean {
  return (
    records.some((r) => r.members.some((m) => m.name === 'triggers' || (!skip.includes(r.package) && (m.name === 'preinst' || m.name === 'postinst')))) ||
    activations(records, baseFileTriggers).length > 0
  );
}
