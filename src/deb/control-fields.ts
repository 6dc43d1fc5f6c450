// The control file of a binary package as a typed record. Parsing of the
// RFC822-style stanza is debian-control's; this file gives the fields types and
// splits relationship fields (Depends, Conflicts, ...) into alternatives.

import { parse } from 'debian-control';

/** One package named in a relationship field: `name:arch (op version) [archs] <profiles>`. */
export interface Relation {
  name: string;
  arch?: string;
  op?: '<<' | '<=' | '=' | '>=' | '>>';
  version?: string;
}
/** A relationship field: every group must be satisfied by one of its alternatives. */
export type RelationList = Relation[][];

export type MultiArch = 'no' | 'same' | 'foreign' | 'allowed';

export interface ControlFields {
  package: string;
  version: string;
  architecture: string;
  maintainer?: string;
  source?: string;
  section?: string;
  priority?: string;
  essential: boolean;
  protected: boolean;
  multiArch: MultiArch;
  /** Installed-Size in KiB, as the field says. */
  installedSize?: number;
  homepage?: string;
  /** First line of Description. */
  summary?: string;
  /** Full Description, continuation lines joined with '\n'. */
  description?: string;
  depends: RelationList;
  preDepends: RelationList;
  recommends: RelationList;
  suggests: RelationList;
  enhances: RelationList;
  conflicts: RelationList;
  breaks: RelationList;
  replaces: RelationList;
  provides: RelationList;
  /** Every field as text, with the names the control file uses, in its order. */
  fields: Record<string, string>;
}

const RELATION = /^([a-z0-9][a-z0-9+.-]*)(?::([a-z0-9-]+))?\s*(?:\(\s*(<<|<=|=|>=|>>|<|>)\s*([^)\s]+)\s*\))?\s*(?:\[[^\]]*\])?\s*(?:<[^>]*>\s*)*$/i;

export class ControlSyntaxError extends Error {}

/** Parse a relationship field such as "libc6 (>= 2.34), foo | bar:any". */
export function parseRelations(field: string, text: string | undefined): RelationList {
  if (text === undefined || text.trim() === '') return [];
  return text.split(',').map((group) =>
    group.split('|').map((alt) => {
      const m = RELATION.exec(alt.trim());
      if (!m) throw new ControlSyntaxError(`field ${field}: cannot parse '${alt.trim()}'`);
      const rel: Relation = { name: m[1]!.toLowerCase() };
      if (m[2]) rel.arch = m[2];
      if (m[3]) {
        // '<' and '>' are obsolete spellings of '<=' and '>=' (deb-control(5)).
        rel.op = (m[3] === '<' ? '<=' : m[3] === '>' ? '>=' : m[3]) as Relation['op'];
        rel.version = m[4]!;
      }
      return rel;
    }),
  );
}

function fieldText(value: string | string[]): string {
  return Array.isArray(value) ? value.join('\n') : value;
}

/**
 * Parse a control file's text. Throws ControlSyntaxError when a required field
 * (Package, Version) is missing or a field is malformed; callers add the file name.
 */
export function parseControlFields(text: string): ControlFields {
  const parsed = parse(text);
  const fields: Record<string, string> = {};
  const byLower = new Map<string, string>();
  for (const [name, value] of Object.entries(parsed)) {
    if (name === 'undefined' || value === undefined) continue;
    const t = fieldText(value);
    fields[name] = t;
    byLower.set(name.toLowerCase(), t);
  }
  const get = (name: string): string | undefined => byLower.get(name.toLowerCase());
  const pkg = get('Package');
  const version = get('Version');
  if (!pkg) throw new ControlSyntaxError('control file has no Package field');
  // dpkg's rule (deb-control(5)); the name ends up in paths, so nothing else passes.
  if (!/^[a-z0-9][a-z0-9+.-]+$/.test(pkg.trim())) throw new ControlSyntaxError(`invalid package name '${pkg.trim()}'`);
  if (!version) throw new ControlSyntaxError(`control file of ${pkg} has no Version field`);
  const installedSize = get('Installed-Size');
  if (installedSize !== undefined && !/^\d+$/.test(installedSize.trim())) {
    throw new ControlSyntaxError(`field Installed-Size: '${installedSize}' is not a number`);
  }
  const multiArch = (get('Multi-Arch') ?? 'no').trim();
  if (!['no', 'same', 'foreign', 'allowed'].includes(multiArch)) {
    throw new ControlSyntaxError(`field Multi-Arch: unknown value '${multiArch}'`);
  }
  const description = get('Description');
  const rel = (name: string) => parseRelations(name, get(name));
  const result: ControlFields = {
    package: pkg.trim(),
    version: version.trim(),
    architecture: (get('Architecture') ?? 'all').trim(),
    essential: get('Essential')?.trim() === 'yes',
    protected: get('Protected')?.trim() === 'yes',
    multiArch: multiArch as MultiArch,
    depends: rel('Depends'),
    preDepends: rel('Pre-Depends'),
    recommends: rel('Recommends'),
    suggests: rel('Suggests'),
    enhances: rel('Enhances'),
    conflicts: rel('Conflicts'),
    breaks: rel('Breaks'),
    replaces: rel('Replaces'),
    provides: rel('Provides'),
    fields,
  };
  const optional: [keyof ControlFields, string][] = [
    ['maintainer', 'Maintainer'],
    ['source', 'Source'],
    ['section', 'Section'],
    ['priority', 'Priority'],
    ['homepage', 'Homepage'],
  ];
  for (const [key, name] of optional) {
    const v = get(name);
    if (v !== undefined) (result as unknown as Record<string, string>)[key] = v.trim();
  }
  if (installedSize !== undefined) result.installedSize = Number(installedSize.trim());
  if (description !== undefined) {
    result.description = description;
    result.summary = description.split('\n')[0]!.trim();
  }
  return result;
}
