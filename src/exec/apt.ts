// apt-get and apt-cache, and libapt through python3-apt: the only place that
// runs them. deblayer never uses the host's apt configuration: every call gets
// APT_CONFIG (a file that only sets Dir::Etc, since apt reads its configuration
// files before any -o, as mkosi does) and the -o options of an AptEnvironment
// (src/apt/environment.ts).

import { startPython } from './python.js';
import { run, type RunOptions, type RunResult } from './run.js';

export interface AptInvocation {
  /** Path of the file APT_CONFIG names. */
  configFile: string;
  /** `-o Key=Value` pairs, in order. */
  options: [string, string][];
}

export function aptArgs(apt: AptInvocation, args: string[]): string[] {
  return [...apt.options.flatMap(([k, v]) => ['-o', `${k}=${v}`]), ...args];
}

function aptEnv(apt: AptInvocation): Record<string, string> {
  // Plain C messages: deblayer reads apt's output, and users search for them.
  return { APT_CONFIG: apt.configFile, LC_ALL: 'C.UTF-8', LANGUAGE: '', DEBIAN_FRONTEND: 'noninteractive' };
}

export function aptGet(apt: AptInvocation, args: string[], what: string, options: RunOptions = {}): Promise<RunResult> {
  return run('apt-get', aptArgs(apt, args), what, { ...options, env: { ...aptEnv(apt), ...options.env } });
}

export function aptCache(apt: AptInvocation, args: string[], what: string, options: RunOptions = {}): Promise<RunResult> {
  return run('apt-cache', aptArgs(apt, args), what, { ...options, env: { ...aptEnv(apt), ...options.env } });
}

/** apt's "E:" and "W:" lines, without the prefix. */
export function aptMessages(text: string, kind: 'E' | 'W'): string[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${kind}: `))
    .map((l) => l.slice(3).trim());
}

// libapt through Debian's python3-apt (python/apt_resolve.py), for the
// common case of resolution: a request of archive packages that adds new
// packages and changes none of the base, marked as `apt-get install` does in
// one dependency cache. `apt-get --simulate` builds a second one and orders
// the whole installation besides. Anything else answers `fallback`, and
// apt-get runs instead, so that apt's own words make the error.
//
// The process opens apt's cache (most of its time) as soon as it starts, and
// then waits for the one request it answers: a transaction starts it as soon
// as the base is known, so that the cache opens while the rest is set up.

export interface LibaptPackage {
  name: string;
  version: string;
  architecture: string;
  /** apt's release string ("Debian:12.12/oldstable"). */
  origin: string;
  /** Of the .deb, in bytes. */
  size: number;
  /** In bytes. */
  installedSize: number;
  filename: string;
  sha256: string | null;
  /** The version installed now (a layered package it upgrades), or null for a new one. */
  current: string | null;
}

/** A package the plan removes (a layered one nothing needs any more). */
export interface LibaptRemoval {
  name: string;
  version: string;
  architecture: string;
  /** In KiB, as the control field. */
  installedSize: number;
}

/**
 * What libapt is asked: specs to install, and with autoremove, names marked
 * automatically installed first and then every package nothing needs removed.
 */
export interface LibaptRequest {
  install: string[];
  auto?: string[];
  autoremove?: boolean;
}

export type LibaptResolution =
  | {
      kind: 'plan';
      packages: LibaptPackage[];
      removed: LibaptRemoval[];
      /** apt's Debug::pkgDepCache::AutoInstall lines. */
      autoInstall: string;
      /** Installed packages with a newer candidate that the plan keeps: apt-get's "N not upgraded". */
      notUpgraded: number;
    }
  | { kind: 'fallback'; reason: string };

/** A libapt process with apt's cache open (or opening), for one request. */
export interface LibaptSession {
  /** Marks REQUEST's specs for installation (and removals); see python/apt_resolve.py for when it answers `fallback`. */
  resolve(request: LibaptRequest): Promise<LibaptResolution>;
  /** Ends the process unused (it was started for another configuration). */
  discard(): void;
}

export function openLibapt(apt: AptInvocation): LibaptSession {
  const options = [...apt.options, ['Debug::pkgDepCache::AutoInstall', 'true']];
  const what = 'cannot resolve the request through libapt';
  const started = startPython('apt_resolve.py', [JSON.stringify(options)], what, aptEnv(apt)).then((p) => {
    // Unused (nothing to resolve after all), it must not keep Node running.
    p.hold(false);
    return p;
  });
  // Reported by resolve(), if it is called.
  started.catch(() => {});
  return {
    async resolve(request) {
      const p = await started;
      p.hold(true);
      try {
        p.send(JSON.stringify(request));
        const answer = JSON.parse(await p.nextLine()) as { fallback?: string; packages?: LibaptPackage[]; removed?: LibaptRemoval[]; autoInstall?: string; notUpgraded?: number };
        await p.finish();
        if (answer.fallback !== undefined) return { kind: 'fallback', reason: answer.fallback };
        return { kind: 'plan', packages: answer.packages!, removed: answer.removed ?? [], autoInstall: answer.autoInstall ?? '', notUpgraded: answer.notUpgraded ?? 0 };
      } finally {
        p.hold(false);
      }
    },
    discard() {
      started.then((p) => p.kill(), () => {});
    },
  };
}
