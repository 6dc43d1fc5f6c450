// mknod(1) from coreutils: Node has no mknod(2), and dpkg creates device nodes
// and FIFOs that packages ship. This is the only place that spawns it.

import { CommandError } from '../errors.js';

export type NodeKind = 'char' | 'block' | 'fifo';

export async function makeNode(path: string, kind: NodeKind, mode: number, major = 0, minor = 0): Promise<void> {
  const args = ['--mode', (mode & 0o7777).toString(8), '--', path];
  if (kind === 'fifo') args.push('p');
  else args.push(kind === 'char' ? 'c' : 'b', String(major), String(minor));
  // Loaded on first use: execa's module graph is a start-up cost, and most
  // packages ship no device nodes.
  const { execa } = await import('execa');
  const result = await execa('mknod', args, { reject: false, stdin: 'ignore' });
  if (result.failed) {
    throw new CommandError('mknod', `cannot create ${kind} node '${path}': ${result.stderr.trim() || result.shortMessage}`, {
      detail: result.command,
    });
  }
}
