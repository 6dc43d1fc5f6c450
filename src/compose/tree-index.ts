// What composition compares: every path of a commit with its ostree checksum
// (which covers content, mode, owner and xattrs), so that two trees can be
// checked for conflicts without reading a file.

import type { OstreeRepo } from '../exec/ostree.js';

/** path (no leading /) -> 'd' for directories, or 'TYPE CHECKSUM' for files ('-') and symlinks ('l'). */
export type TreeIndex = Record<string, string>;

// `ostree ls -R -C`: "d00755 0 0 0 DIRTREE DIRMETA /usr", "-00644 0 0 12 CSUM /usr/x", "l00777 0 0 0 CSUM /bin -> usr/bin"
export function parseTreeListing(text: string): TreeIndex {
  const index: TreeIndex = {};
  for (const line of text.split('\n')) {
    const m = /^([-dl])\S+\s+\d+\s+\d+\s+\d+\s+([0-9a-f]{64})(?:\s+[0-9a-f]{64})?\s+(\/.*?)(?: -> .*)?$/.exec(line);
    if (!m) continue;
    index[m[3]!.replace(/^\//, '')] = m[1] === 'd' ? 'd' : `${m[1]} ${m[2]}`;
  }
  return index;
}

export async function treeIndex(repo: OstreeRepo, commit: string): Promise<TreeIndex> {
  return parseTreeListing(await repo.listTree(commit));
}
