// The real ostree, for tests to look at what deblayer wrote.

import { execa } from 'execa';

export async function ostree(repo: string, args: string[]): Promise<string> {
  const r = await execa('ostree', [`--repo=${repo}`, ...args], { env: { LC_ALL: 'C' } });
  return r.stdout;
}

export async function ostreeExitCode(repo: string, args: string[]): Promise<number> {
  const r = await execa('ostree', [`--repo=${repo}`, ...args], { reject: false });
  return r.exitCode ?? -1;
}

/** Every path in a commit with its `ostree ls` line, recursively. */
export async function commitListing(repo: string, ref: string): Promise<Map<string, string>> {
  const out = await ostree(repo, ['ls', '-R', ref]);
  const map = new Map<string, string>();
  for (const line of out.split('\n')) {
    const m = /^(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\/\S*)(.*)$/.exec(line);
    if (m) map.set(m[5]!, `${m[1]} ${m[2]} ${m[3]} ${m[4]}${m[6]}`);
  }
  return map;
}

export async function refs(repo: string): Promise<string[]> {
  return (await ostree(repo, ['refs'])).split('\n').filter((l) => l !== '').sort();
}
