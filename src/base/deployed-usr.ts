// A commit's tree as a deployment of it has it on disk: ostree checks a
// deployment out with hardlinks to the repository's objects and never writes
// into its usr/, so a file there is the commit's, read without ostree.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { OstreeRepo } from '../exec/ostree.js';

/** The usr/ of a deployment of COMMIT in the sysroot that holds REPO, if there is one. */
export function deployedUsr(repoPath: string, commit: string): string | undefined {
  if (basename(repoPath) !== 'repo' || basename(dirname(repoPath)) !== 'ostree') return undefined;
  const deploy = join(dirname(repoPath), 'deploy');
  if (!existsSync(deploy)) return undefined;
  for (const stateroot of readdirSync(deploy)) {
    const dir = join(deploy, stateroot, 'deploy');
    if (!existsSync(dir)) continue;
    const found = readdirSync(dir).find((n) => n.startsWith(`${commit}.`) && /^\d+$/.test(n.slice(commit.length + 1)) && existsSync(join(dir, n, 'usr')));
    if (found) return join(dir, found, 'usr');
  }
  return undefined;
}

/**
 * The file at PATH (no leading /) of COMMIT, undefined if it has none: under
 * usr/, from a deployment's checkout when there is one; else through ostree
 * (a deployment's other directories are the machine's, not the commit's).
 */
export async function readCommitFile(repo: OstreeRepo, commit: string, path: string): Promise<Buffer | undefined> {
  const usr = path.startsWith('usr/') ? deployedUsr(repo.path, commit) : undefined;
  if (!usr) return repo.cat(commit, path);
  try {
    return readFileSync(join(usr, path.slice('usr/'.length)));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
