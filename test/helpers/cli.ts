// Runs the built deblayer CLI the way a user does.

import { execa, type Result } from 'execa';

export const CLI = new URL('../../dist/cli/main.js', import.meta.url).pathname;

export async function deblayer(args: string[], options: { env?: Record<string, string> } = {}): Promise<Result> {
  return execa('node', [CLI, ...args], { reject: false, env: { LC_ALL: 'C', ...options.env }, stdin: 'ignore' });
}
