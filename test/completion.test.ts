// bash completion as an admin meets it: the script `deblayer completion bash`
// prints, sourced into a real bash, and its function called the way bash calls
// it (COMP_WORDS, COMP_CWORD). Commands and options come from the command line
// itself; package names from deblayer's lists of a real sysroot, after
// refresh-md; uninstall offers what is layered.

import { execa } from 'execa';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildFixtureWorld, SPECS, type FixtureWorld } from './helpers/apt-repo.js';
import { deblayer } from './helpers/cli.js';
import { makeSysroot, type TestSysroot } from './helpers/sysroot.js';

let dir: string;
let script: string;
let world: FixtureWorld;
let sysroot: TestSysroot;
let cache: string;

/** What completing the last of WORDS offers (bash's COMPREPLY), sorted. */
async function complete(...words: string[]): Promise<string[]> {
  const quoted = words.map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = await execa('bash', ['--norc', '--noprofile', '-c', `source "$1"; COMP_WORDS=(${quoted}); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); _deblayer; printf '%s\\n' "\${COMPREPLY[@]}"`, 'bash', script], { env: { LC_ALL: 'C', PATH: process.env.PATH!, HOME: dir } });
  expect(r.stderr).toBe('');
  return r.stdout.split('\n').filter(Boolean).sort();
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'deblayer-completion-'));
  const r = await deblayer(['completion', 'bash']);
  expect(r.exitCode, r.stderr).toBe(0);
  script = join(dir, 'deblayer.bash');
  writeFileSync(script, r.stdout + '\n');
  world = await buildFixtureWorld(join(dir, 'world'), inject('fixtures').kernel!.xz!);
  const repo = join(dir, 'repo');
  const imported = await deblayer(['--repo', repo, 'base', 'import', world.rootfs, '-b', 'fx/base']);
  expect(imported.exitCode, imported.stderr).toBe(0);
  sysroot = await makeSysroot(join(dir, 'sysroot'), repo);
  await sysroot.deploy('fx/base');
  cache = join(dir, 'cache');
}, 300_000);
afterAll(async () => {
  await sysroot?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('bash completion', () => {
  it('is a completion bash loads for the deblayer command', async () => {
    const r = await execa('bash', ['--norc', '--noprofile', '-c', 'source "$1" && complete -p deblayer', 'bash', script]);
    expect(r.stdout).toBe('complete -F _deblayer deblayer');
  });

  it('offers every command and every option that --help lists', async () => {
    const help = (await deblayer(['--help'])).stdout;
    const commands = [...help.split('Commands:')[1]!.matchAll(/^ {2}([a-z-]+)/gm)].map((m) => m[1]!);
    expect(commands).toContain('install');
    expect(await complete('deblayer', '')).toEqual([...commands].sort());
    expect(await complete('deblayer', 'un')).toEqual(['uninstall']);
    expect(await complete('deblayer', 'deb', '')).toEqual(['contents', 'extract', 'info']);
    expect(await complete('deblayer', 'help', 'up')).toEqual(['upgrade']);
    for (const command of [['install'], ['upgrade'], ['base', 'import']]) {
      const text = (await deblayer([...command, '--help'])).stdout;
      const flags = [...text.matchAll(/^ {2}(?:(-\w), )?(--[\w-]+)/gm)].flatMap((m) => [m[1], m[2]]).filter((f): f is string => f !== undefined);
      const offered = await complete('deblayer', ...command, '-');
      expect(flags.length).toBeGreaterThan(2);
      for (const f of flags) expect(offered, `${command.join(' ')} ${f}`).toContain(f);
      // The global options too, after the command as before it.
      expect(offered).toContain('--sysroot');
    }
    expect(await complete('deblayer', '--json', 'install', '-n', '--sk')).toEqual(['--skip-scripts']);
  });

  it('completes option values and file arguments by what they are', async () => {
    const files = join(dir, 'files');
    mkdirSync(join(files, 'sub'), { recursive: true });
    for (const f of ['a.deb', 'b.deb', 'notes.txt']) writeFileSync(join(files, f), '');
    expect(await complete('deblayer', 'deb', 'info', `${files}/`)).toEqual([`${files}/a.deb`, `${files}/b.deb`, `${files}/sub`]);
    expect(await complete('deblayer', '--cache-dir', `${files}/`)).toEqual([`${files}/sub`]);
    // An option's fixed choices, and an argument's.
    expect(await complete('deblayer', 'sysext', '--format', '')).toEqual(['erofs', 'squashfs']);
    expect(await complete('deblayer', 'sysext', '--format', 's')).toEqual(['squashfs']);
    expect(await complete('deblayer', 'completion', '')).toEqual(['bash']);
    // --opt=value, which bash splits at the '='.
    expect(await complete('deblayer', '--sysroot', '=', `${files}/s`)).toEqual([`${files}/sub`]);
    // install takes ./file.deb as well as names.
    expect(await complete('deblayer', 'install', `${files}/`)).toEqual([`${files}/a.deb`, `${files}/b.deb`, `${files}/sub`]);
    // Refs and stateroots of the sysroot given on the line; deblayer's own refs are not offered.
    expect(await complete('deblayer', '--sysroot', sysroot.path, 'base', 'info', '')).toEqual(['fx/base']);
    expect(await complete('deblayer', '--sysroot', sysroot.path, '--os', '')).toEqual(['fx']);
    // override remove offers the deployment's packages; override reset what its origin removes.
    expect(await complete('deblayer', '--sysroot', sysroot.path, 'override', 'remove', 'fx-base')).toEqual(['fx-base-files', 'fx-basepkg']);
    const origins = join(dir, 'origins', 'ostree/deploy/os/deploy');
    mkdirSync(origins, { recursive: true });
    writeFileSync(join(origins, `${'a'.repeat(64)}.0.origin`), '[origin]\nbaserefspec=debian/12\n\n[overrides]\nremove=tzdata;nano;\n');
    expect(await complete('deblayer', '--sysroot', join(dir, 'origins'), 'override', 'reset', '')).toEqual(['nano', 'tzdata']);
  });

  it("offers the names in deblayer's lists to install, and what is layered to uninstall", async () => {
    const on = ['deblayer', '--sysroot', sysroot.path, '--cache-dir', cache];
    // No lists yet: nothing to offer, and no error.
    expect(await complete(...on, 'install', 'fx')).toEqual([]);
    const refreshed = await deblayer([...on.slice(1), 'refresh-md']);
    expect(refreshed.exitCode, refreshed.stderr).toBe(0);
    const names = [...new Set(SPECS.repo.map((p) => p.Package))].sort();
    expect(await complete(...on, 'install', 'fx')).toEqual(names);
    expect(await complete(...on, 'install', 'fx-m')).toEqual(names.filter((n) => n.startsWith('fx-m')));
    expect(await complete(...on, 'uninstall', '')).toEqual([]);
    const installed = await deblayer([...on.slice(1), 'install', 'fx-app']);
    expect(installed.exitCode, installed.stderr).toBe(0);
    expect(await complete(...on, 'uninstall', '')).toEqual(['fx-app']);
    expect(await complete(...on, 'install', '--skip-scripts', 'fx-ap')).toEqual(['fx-app']);
  });
});
