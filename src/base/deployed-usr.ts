// A commit's tree as a deployment of it has it on disk: ostree checks a
// deployment out with hardlinks to the repository's objects and never writes
// into its usr/, so a file there is the commit's, read without ostree.

import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

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
