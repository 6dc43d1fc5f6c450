// What every command gets from the global options, and the few ways a command
// talks to the user: results on stdout (text or --json), progress and notes on
// stderr (silenced by --quiet), details with --verbose.

import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_CACHE_DIR, DEFAULT_CONFIG_DIR, DEFAULT_SYSROOT } from '../vocabulary/defaults.js';

export interface GlobalOptions {
  sysroot: string;
  repo?: string;
  os?: string;
  /** Where package lists and downloaded .deb files are kept. */
  cacheDir: string;
  /** Host configuration (sources that replace the base's). */
  configDir: string;
  json: boolean;
  verbose: boolean;
  quiet: boolean;
}

export class Output {
  constructor(readonly options: GlobalOptions) {}

  get json(): boolean {
    return this.options.json;
  }

  /** A command's result as data; only with --json. */
  data(value: unknown): void {
    process.stdout.write(JSON.stringify(value, null, 2) + '\n');
  }

  /** A line of the command's human-readable result (not printed with --json). */
  result(line: string): void {
    if (!this.options.json) process.stdout.write(line + '\n');
  }

  /** Progress and notes, on stderr so that stdout stays parseable. */
  info(line: string): void {
    if (!this.options.quiet && !this.options.json) process.stderr.write(line + '\n');
  }

  /** Something the user should know that did not stop the command: stderr, even with --json; not with --quiet. */
  warn(line: string): void {
    if (!this.options.quiet) process.stderr.write(`deblayer: warning: ${line}\n`);
  }

  /** A note the user must see even with --json (stderr): what was left out of a commit. */
  notice(line: string): void {
    if (!this.options.quiet) process.stderr.write(line + '\n');
  }

  verbose(line: string): void {
    if (this.options.verbose) process.stderr.write(line + '\n');
  }
}

export function contextOf(command: Command): Output {
  const o = command.optsWithGlobals() as Partial<GlobalOptions>;
  return new Output({
    sysroot: resolve(o.sysroot ?? DEFAULT_SYSROOT),
    ...(o.repo !== undefined ? { repo: resolve(o.repo) } : {}),
    ...(o.os !== undefined ? { os: o.os } : {}),
    // apt and the sandboxes run in other directories: a relative path would name another place.
    cacheDir: resolve(o.cacheDir ?? DEFAULT_CACHE_DIR),
    configDir: o.configDir ?? DEFAULT_CONFIG_DIR,
    json: o.json ?? false,
    verbose: o.verbose ?? false,
    quiet: o.quiet ?? false,
  });
}

/** The OSTree repository: --repo, or the sysroot's own. */
export function repoPath(options: GlobalOptions): string {
  return options.repo ?? join(options.sysroot, 'ostree/repo');
}
