// The control.tar member: the control file and the other metadata dpkg keeps in
// its database (md5sums, conffiles, triggers, shlibs, ...), and the maintainer
// scripts kept as bytes with their modes, to be run later by the composer.

import type { DebLayout } from './layout.js';
import { readTarMember } from './tar.js';
import type { Conffile } from '../vocabulary/packages.js';
import { parseControlFields, ControlSyntaxError, type ControlFields } from './control-fields.js';
import { DebFormatError } from '../errors.js';

export const SCRIPT_NAMES = ['preinst', 'postinst', 'prerm', 'postrm', 'config'] as const;
export type ScriptName = (typeof SCRIPT_NAMES)[number];

export interface ControlMemberFile {
  name: string;
  mode: number;
  data: Buffer;
}

export type { Conffile };

export interface TriggerDirective {
  directive: string;
  name: string;
}

export interface DebControl {
  fields: ControlFields;
  /** The control file exactly as shipped. */
  controlText: string;
  /** Absolute path -> md5 hex, from the md5sums member (empty when absent). */
  md5sums: Map<string, string>;
  conffiles: Conffile[];
  triggers: TriggerDirective[];
  /** shlibs member text, when present. */
  shlibs?: string;
  scripts: Partial<Record<ScriptName, ControlMemberFile>>;
  /** Every member of control.tar (including the ones above), in archive order. */
  files: ControlMemberFile[];
}

// A control archive is metadata held in memory whole; anything this large is
// not a real package (the largest in Debian are a few hundred kB).
const MAX_CONTROL_TOTAL = 64 * 1024 * 1024;

function lines(data: Buffer): string[] {
  return data
    .toString('utf8')
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l) => l.trim() !== '');
}

export function parseMd5sums(data: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of lines(data)) {
    const m = /^([0-9a-f]{32}) [ *]?(.+)$/i.exec(line);
    if (!m) continue;
    out.set('/' + m[2]!.replace(/^\.?\/+/, ''), m[1]!.toLowerCase());
  }
  return out;
}

export function parseConffiles(data: Buffer): Conffile[] {
  return lines(data).map((line) => {
    const words = line.trim().split(/\s+/);
    const path = words.pop()!;
    return { path, flags: words };
  });
}

export function parseTriggers(data: Buffer): TriggerDirective[] {
  return lines(data)
    .filter((l) => !l.trimStart().startsWith('#'))
    .map((l) => {
      const [directive = '', name = ''] = l.trim().split(/\s+/);
      return { directive, name };
    });
}

export async function readDebControl(layout: DebLayout): Promise<DebControl> {
  const files: ControlMemberFile[] = [];
  let total = 0;
  for await (const { entry, body } of readTarMember(layout.file, layout.control)) {
    if (entry.type !== 'file') {
      body.skip();
      continue;
    }
    total += entry.size;
    if (total > MAX_CONTROL_TOTAL) {
      throw new DebFormatError(layout.file, `control archive is implausibly large (over ${MAX_CONTROL_TOTAL} bytes at '${entry.path}')`);
    }
    const chunks: Buffer[] = [];
    await body.consume((chunk) => chunks.push(chunk));
    files.push({ name: entry.path, mode: entry.mode, data: Buffer.concat(chunks) });
  }
  const byName = new Map(files.map((f) => [f.name, f]));
  const control = byName.get('control');
  if (!control) throw new DebFormatError(layout.file, "control archive has no 'control' file");
  const controlText = control.data.toString('utf8');
  let fields: ControlFields;
  try {
    fields = parseControlFields(controlText);
  } catch (err) {
    if (err instanceof ControlSyntaxError) throw new DebFormatError(layout.file, err.message);
    throw err;
  }
  const scripts: DebControl['scripts'] = {};
  for (const name of SCRIPT_NAMES) {
    const f = byName.get(name);
    if (f) scripts[name] = f;
  }
  const md5 = byName.get('md5sums');
  const conf = byName.get('conffiles');
  const trig = byName.get('triggers');
  const shlibs = byName.get('shlibs');
  return {
    fields,
    controlText,
    md5sums: md5 ? parseMd5sums(md5.data) : new Map(),
    conffiles: conf ? parseConffiles(conf.data) : [],
    triggers: trig ? parseTriggers(trig.data) : [],
    ...(shlibs ? { shlibs: shlibs.data.toString('utf8') } : {}),
    scripts,
    files,
  };
}
