// Where a base commit keeps its dpkg database. OSTree bases move it out of
// /var (which a commit cannot carry) to different places depending on the tool
// that built them; deblayer reads any of them without checking the commit out.

import { posix } from 'node:path';
import { DeblayerError } from '../errors.js';
import { short, type OstreeRepo } from '../exec/ostree.js';

export interface DpkgDatabase {
  /** Relative to the root of the commit, e.g. 'usr/lib/sysimage/dpkg'. */
  path: string;
  /** How it was found. */
  foundBy: 'commit metadata' | 'known location' | 'tmpfiles.d link';
}

/** Where Debian OSTree systems keep it: Debian bootc images, Endless/Collabora, StarlingX apt-ostree, and a plain tree. */
export const KNOWN_LOCATIONS = ['usr/lib/sysimage/dpkg', 'usr/share/dpkg/database', 'usr/rootdirs/var/lib/dpkg', 'var/lib/dpkg'];

export class NoDpkgDatabaseError extends DeblayerError {}

export async function locateDpkgDatabase(repo: OstreeRepo, commit: string, metadata: Record<string, unknown>): Promise<DpkgDatabase> {
  const hasStatus = async (dir: string) => (await repo.ls(commit, `${dir}/status`))?.[0]?.type === 'file';
  const recorded = metadata['deblayer.dpkg-database'];
  if (typeof recorded === 'string' && (await hasStatus(recorded))) return { path: recorded, foundBy: 'commit metadata' };
  for (const dir of KNOWN_LOCATIONS) {
    if (await hasStatus(dir)) return { path: dir, foundBy: 'known location' };
  }
  const linked = await tmpfilesLinkTargets(repo, commit, '/var/lib/dpkg');
  for (const target of linked) {
    if (await hasStatus(target)) return { path: target, foundBy: 'tmpfiles.d link' };
  }
  const looked = [...new Set([...KNOWN_LOCATIONS, ...linked])].map((l) => `/${l}`);
  throw new NoDpkgDatabaseError(
    `commit ${short(commit)} has no dpkg database: no status file in ${looked.join(', ')}${
      linked.length === 0 ? ', and no tmpfiles.d link for /var/lib/dpkg' : ''
    } (was it deleted when the image was built?)`,
  );
}

/** Targets of `L /var/lib/dpkg` lines in the commit's tmpfiles.d, relative to the root, in tmpfiles' order. */
async function tmpfilesLinkTargets(repo: OstreeRepo, commit: string, path: string): Promise<string[]> {
  const targets: string[] = [];
  const entries = (await repo.ls(commit, 'usr/lib/tmpfiles.d', { children: true })) ?? [];
  const confs = entries.filter((e) => e.path.endsWith('.conf') && e.type === 'file').sort((a, b) => (a.path < b.path ? -1 : 1));
  for (const entry of confs) {
    const text = (await repo.cat(commit, entry.path))?.toString('utf8') ?? '';
    for (const line of text.split('\n')) {
      const f = line.trim().split(/\s+/);
      if (/^L\+?$/.test(f[0] ?? '') && f[1] === path && f[6]) {
        targets.push(posix.resolve(posix.dirname(path), f[6]).replace(/^\/+/, ''));
      }
    }
  }
  return targets;
}
