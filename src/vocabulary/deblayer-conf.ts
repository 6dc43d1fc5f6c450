// /etc/deblayer/deblayer.conf, a key file as systemd's and rpm-ostreed.conf are:
//
//   [Automatic]
//   UpdatePolicy=check
//
// UpdatePolicy is what `deblayer upgrade --trigger-automatic-update-policy`
// (deblayer-upgrade.service, from its timer) does: none, check (refresh and
// look for an upgrade) or stage (deploy it for the next boot), as
// rpm-ostreed.conf's AutomaticUpdatePolicy.

import { join } from 'node:path';
import { DeblayerError } from '../errors.js';
import { readTextIfPresent } from '../read-text.js';

export const UPDATE_POLICIES = ['none', 'check', 'stage'] as const;
export type UpdatePolicy = (typeof UPDATE_POLICIES)[number];

export interface DeblayerConf {
  /** The file read (it may be absent: then everything is its default). */
  path: string;
  updatePolicy: UpdatePolicy;
}

const KNOWN: Record<string, string[]> = { Automatic: ['UpdatePolicy'] };

export function confPath(configDir: string): string {
  return join(configDir, 'deblayer.conf');
}

export function parseDeblayerConf(text: string, path: string): DeblayerConf {
  let group: string | undefined;
  const conf: DeblayerConf = { path, updatePolicy: 'none' };
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    const at = `${path}:${i + 1}`;
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    const g = /^\[([^\]]+)\]$/.exec(line);
    if (g) {
      group = g[1]!;
      if (!(group in KNOWN)) throw new DeblayerError(`${at}: unknown section [${group}] (known: ${Object.keys(KNOWN).map((k) => `[${k}]`).join(', ')})`);
      return;
    }
    const eq = line.indexOf('=');
    if (eq <= 0) throw new DeblayerError(`${at}: not a KEY=VALUE line or a [Section]: ${line}`);
    if (group === undefined) throw new DeblayerError(`${at}: ${line.slice(0, eq).trim()}= comes before any [Section]`);
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (!KNOWN[group]!.includes(key)) throw new DeblayerError(`${at}: unknown key ${key} in [${group}] (known: ${KNOWN[group]!.join(', ')})`);
    if (!(UPDATE_POLICIES as readonly string[]).includes(value)) {
      throw new DeblayerError(`${at}: UpdatePolicy=${value} is not one of ${UPDATE_POLICIES.join(', ')}`);
    }
    conf.updatePolicy = value as UpdatePolicy;
  });
  return conf;
}

/** CONFIGDIR/deblayer.conf; an absent file is all defaults. */
export function readDeblayerConf(configDir: string): DeblayerConf {
  const path = confPath(configDir);
  let text: string;
  try {
    text = readTextIfPresent(path);
  } catch (err) {
    throw new DeblayerError(`${path}: cannot read: ${(err as Error).message}`, { cause: err });
  }
  return parseDeblayerConf(text, path);
}
