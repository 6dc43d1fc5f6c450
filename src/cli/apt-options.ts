// Options shared by the commands that resolve against a base with apt.

import { Option, type Command } from 'commander';
import type { AptSettings } from '../apt/environment.js';
import type { BaseSelector } from '../base/select.js';
import type { GlobalOptions } from './context.js';

export interface AptCommandOptions {
  base?: string;
  source?: string[];
  allowUnauthenticated?: boolean;
  installRecommends?: boolean;
}

export function addAptOptions(command: Command): Command {
  return command
    .addOption(new Option('--base <ref>', 'resolve against this ref or commit in --repo instead of the sysroot\'s deployment'))
    .addOption(
      new Option('--source <source>', 'package source to use instead of the base\'s: a "deb URI SUITE COMPONENT..." line or a .list/.sources file (repeatable)')
        .argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]),
    )
    .option('--allow-unauthenticated', 'accept unsigned or badly signed repositories (apt checks signatures otherwise)');
}

export function baseSelector(global: GlobalOptions, opts: AptCommandOptions): BaseSelector {
  return {
    sysroot: global.sysroot,
    ...(global.repo !== undefined ? { repo: global.repo } : {}),
    ...(global.os !== undefined ? { os: global.os } : {}),
    ...(opts.base !== undefined ? { base: opts.base } : {}),
  };
}

export function aptSettings(global: GlobalOptions, opts: AptCommandOptions): AptSettings {
  return {
    cacheDir: global.cacheDir,
    configDir: global.configDir,
    ...(opts.source ? { sources: opts.source } : {}),
    ...(opts.allowUnauthenticated ? { allowUnauthenticated: true } : {}),
    ...(opts.installRecommends === false ? { installRecommends: false } : {}),
  };
}
