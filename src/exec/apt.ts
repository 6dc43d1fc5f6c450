// apt-get and apt-cache: the only place that spawns them. deblayer never uses
// the host's apt configuration: every call gets APT_CONFIG (a file that only
// sets Dir::Etc, since apt reads its configuration files before any -o, as
// mkosi does) and the -o options of an AptEnvironment (src/apt/environment.ts).

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
