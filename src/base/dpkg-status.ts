// dpkg's status file (deb822 paragraphs, dpkg(1) "status" database): read the
// installed packages of a base, and write the copy apt resolves against.

import { parseParagraphs } from '../vocabulary/deb822.js';

export interface StatusEntry {
  package: string;
  version: string;
  architecture: string;
  /** The three words of the Status field: want, flag, state ("install ok installed"). */
  want: string;
  flag: string;
  state: string;
  /** Provides, Depends, ... as written, for callers that need more. */
  fields: Record<string, string>;
}

export function parseStatus(text: string): StatusEntry[] {
  return parseParagraphs(text)
    .filter((p) => p.Package !== undefined)
    .map((p) => {
      const [want = '', flag = '', state = ''] = (p.Status ?? '').split(/\s+/);
      return {
        package: p.Package!,
        version: p.Version ?? '',
        architecture: p.Architecture ?? '',
        want,
        flag,
        state,
        fields: p,
      };
    });
}

/** TEXT without the paragraphs of the packages NAMES (of any architecture). */
export function withoutPackages(text: string, names: ReadonlySet<string>): string {
  return text
    .split(/\n\s*\n/)
    .filter((paragraph) => {
      const name = /^Package: (\S+)$/m.exec(paragraph)?.[1];
      return name === undefined || !names.has(name);
    })
    .join('\n\n');
}

/**
 * The base's status with every package on hold ("hold ok installed"), so that
 * apt plans only additions: a plan that needs to change a base package fails
 * with apt's own explanation naming it.
 */
export function holdAll(text: string, except: ReadonlySet<string> = new Set()): string {
  const held = text.replace(/^Status: install (\S+ \S+)$/gm, 'Status: hold $1');
  if (except.size === 0) return held;
  // A package being replaced (override replace) is installed and free to move, as a layered one is.
  return held
    .split(/\n\s*\n/)
    .map((p) => (except.has(/^Package: (\S+)$/m.exec(p)?.[1] ?? '') ? p.replace(/^Status: hold /m, 'Status: install ') : p))
    .join('\n\n');
}
