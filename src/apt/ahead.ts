// The libapt resolver started before deblayer has loaded. Opening apt's cache
// (its dependency cache over every package of the lists) takes about as long
// as Node takes to load deblayer and read the sysroot, and it cannot start
// until the apt configuration is known. So each install and uninstall leaves a
// hint in the cache directory: the configuration the next one on that sysroot
// will resolve against (the new deployment's state, or its own when nothing
// was deployed). The next `deblayer install` or `uninstall` starts libapt on
// the hint first thing; the transaction takes that process only if its own
// configuration is exactly the hint's and the lists were not refreshed since,
// and ends it otherwise, so a stale hint costs time, never a wrong plan.
// rollback changes the default deployment without resolving: it drops the hint.

import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openLibapt, type AptInvocation, type LibaptSession } from '../exec/apt.js';
import { DEFAULT_CACHE_DIR, DEFAULT_SYSROOT } from '../vocabulary/defaults.js';

/** The commands that resolve against the deployment's state first thing. */
const RESOLVING = new Set(['install', 'uninstall']);
/** Global options that take a value, so that the value is not read as the command (program.ts has them all; a unit test compares). */
export const VALUED = new Set(['--sysroot', '--cache-dir', '--repo', '--os', '--config-dir']);

export interface ResolverPlace {
  sysroot: string;
  cacheDir: string;
}

let ahead: { key: string; session: LibaptSession } | undefined;
/** The hint as read at start (or last written), so that an unchanged one is not written again. */
let known: string | undefined;

/** Where the command line says deblayer works, when its command resolves first thing; else undefined. */
export function resolvingPlace(args: readonly string[]): ResolverPlace | undefined {
  const place: ResolverPlace = { sysroot: DEFAULT_SYSROOT, cacheDir: DEFAULT_CACHE_DIR };
  let command: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') break;
    const eq = a.indexOf('=');
    const [name, inline] = a.startsWith('--') && eq > 0 ? [a.slice(0, eq), a.slice(eq + 1)] : [a, undefined];
    if (VALUED.has(name)) {
      const value = inline ?? args[++i];
      if (value === undefined) return undefined;
      if (name === '--sysroot') place.sysroot = value;
      if (name === '--cache-dir') place.cacheDir = value;
    } else if (command === undefined && !a.startsWith('-')) {
      command = a;
    }
  }
  return command !== undefined && RESOLVING.has(command) ? { sysroot: resolve(place.sysroot), cacheDir: resolve(place.cacheDir) } : undefined;
}

function hintPath(place: ResolverPlace): string {
  return join(place.cacheDir, 'next-resolve', `${encodeURIComponent(place.sysroot)}.json`);
}

/** From the entry point, before the rest of deblayer loads: starts libapt on the hint for this command line, if there is one. */
export function startResolverAhead(args: readonly string[]): void {
  const place = resolvingPlace(args);
  if (!place) return;
  let invocation: AptInvocation;
  try {
    known = readFileSync(hintPath(place), 'utf8');
    invocation = JSON.parse(known) as AptInvocation;
  } catch {
    return;
  }
  // A state's configuration whose files `deblayer cleanup` removed: apt would only fail to open.
  const status = invocation.options?.find(([k]) => k === 'Dir::State::status')?.[1];
  if (status === undefined || !existsSync(status)) return;
  ahead = { key: JSON.stringify(invocation), session: openLibapt(invocation) };
}

/** The libapt process started ahead, if it was started for INVOCATION; one started for another is ended. */
export function takeResolverAhead(invocation: AptInvocation): LibaptSession | undefined {
  const taken = ahead;
  ahead = undefined;
  if (!taken) return undefined;
  if (taken.key === JSON.stringify(invocation)) return taken.session;
  taken.session.discard();
  return undefined;
}

/** Ends the libapt process started ahead: the lists it opened are being replaced. */
export function dropResolverAhead(): void {
  ahead?.session.discard();
  ahead = undefined;
}

/** Records INVOCATION as what the next install or uninstall on PLACE's sysroot resolves against. */
export function rememberNextResolver(place: ResolverPlace, invocation: AptInvocation): void {
  const text = JSON.stringify(invocation);
  if (text === known) return;
  const path = hintPath(place);
  // Only a hint: a cache directory this user cannot write goes without one.
  try {
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(`${path}.${process.pid}`, text);
    renameSync(`${path}.${process.pid}`, path);
    known = text;
  } catch {
    // nothing to undo
  }
}

/** Drops PLACE's hint: the default deployment changed without a transaction that resolved (rollback), so the hint names another state. */
export function forgetNextResolver(place: ResolverPlace): void {
  try {
    rmSync(hintPath(place), { force: true });
  } catch {
    // Only a hint: the next install ends a libapt started for another state.
  }
}
