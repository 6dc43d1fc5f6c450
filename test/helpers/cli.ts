// Runs the built deblayer CLI the way a user does.

import { execa } from 'execa';

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export const CLI = new URL('../../dist/bundle/main.js', import.meta.url).pathname;

export async function deblayer(args: string[], options: { env?: Record<string, string> } = {}): Promise<CliResult> {
  const r = await execa('node', [CLI, ...args], { reject: false, env: { LC_ALL: 'C', ...options.env }, stdin: 'ignore' });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}
