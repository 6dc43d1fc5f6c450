// deblayer sysext on the real Debian 12 base: real packages resolved against
// it by apt, packed as erofs and squashfs images that hold what dpkg-deb -x
// unpacks of them under /usr, with an extension-release matching the base's
// os-release, and without the dpkg database or /etc. Packages that need /etc
// files (unless --without-etc leaves them out) or accounts are refused, naming
// them; links through /etc/alternatives lead to their choice. Nothing of a build stays in
// the repository. The trixie guest of boot.test.ts merges an image with
// systemd-sysext. Needs deb.debian.org (the base's package lists).

import { execa } from 'execa';
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, inject, test } from 'vitest';
import { deblayer, type CliResult } from './helpers/cli.js';
import { extractBootableBase } from './helpers/sysroot.js';

let work: string;
let repo: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'deblayer-sysext-'));
  repo = join(work, 'repo');
  const tree = await extractBootableBase(inject('realBase'), join(work, 'tree'));
  const imported = await deblayer(['--repo', repo, 'base', 'import', tree, '-b', 'debian/bookworm']);
  expect(imported.exitCode, imported.stderr).toBe(0);
  rmSync(tree, { recursive: true, force: true });
}, 600_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

const run = (args: string[]): Promise<CliResult> => deblayer(['--repo', repo, '--cache-dir', join(work, 'cache'), 'sysext', '--base', 'debian/bookworm', ...args]);

/** The repository's refs but for the package cache's (a cache, kept as install keeps it), and the commits no ref names. */
async function repoState(): Promise<string> {
  const all = (await execa('ostree', [`--repo=${repo}`, 'refs'])).stdout.split('\n').filter(Boolean);
  const named = new Set((await execa('ostree', [`--repo=${repo}`, 'rev-parse', ...all])).stdout.split('\n'));
  const commits = (await execa('find', [join(repo, 'objects'), '-name', '*.commit'])).stdout.split('\n').filter(Boolean);
  const loose = commits.map((p) => p.split('/').slice(-2).join('').replace('.commit', '')).filter((c) => !named.has(c));
  return `${all.filter((r) => !r.startsWith('deblayer/pkg')).sort().join(' ')}; commits no ref names: ${loose.length}`;
}

test('an erofs image of tree holds what dpkg-deb -x unpacks of it under /usr, and an extension-release for Debian 12', async () => {
  const before = await repoState();
  const image = join(work, 'tree.raw');
  const made = await run(['tree', '-o', image]);
  expect(made.exitCode, made.stderr).toBe(0);
  expect(made.stdout).toMatch(/^Wrote .*\/tree\.raw: erofs, \d+(\.\d+)? kB, \d+ entries, 1 package on debian\/bookworm\.$/m);
  expect(made.stdout).toContain('extension-release.tree: ID=debian VERSION_ID=12 ARCHITECTURE=x86-64 EXTENSION_RELOAD_MANAGER=1');
  const out = join(work, 'tree-extracted');
  await execa('fsck.erofs', [`--extract=${out}`, image]);
  expect(readdirSync(out)).toEqual(['usr']);
  expect(readFileSync(join(out, 'usr/lib/extension-release.d/extension-release.tree'), 'utf8')).toBe('ID=debian\nVERSION_ID=12\nARCHITECTURE=x86-64\nEXTENSION_RELOAD_MANAGER=1\n');
  // The package's files, byte for byte as dpkg-deb unpacks them; no dpkg database, no /etc.
  const deb = (await execa('find', [join(work, 'cache'), '-name', 'tree_*.deb'])).stdout.split('\n')[0]!;
  expect(deb).toMatch(/tree_.*_amd64\.deb$/);
  const ref = join(work, 'tree-deb');
  await execa('dpkg-deb', ['-x', deb, ref]);
  expect(readFileSync(join(out, 'usr/bin/tree')).equals(readFileSync(join(ref, 'usr/bin/tree')))).toBe(true);
  expect(existsSync(join(out, 'usr/share/man/man1/tree.1.gz'))).toBe(true);
  expect(existsSync(join(out, 'usr/lib/sysimage'))).toBe(false);
  expect(existsSync(join(out, 'usr/etc'))).toBe(false);
  // The composed commit is gone: the repository has what it had.
  expect(await repoState()).toBe(before);
}, 600_000);

test('--format squashfs makes a squashfs image of the same files', async () => {
  const image = join(work, 'tree-squash.raw');
  const made = await run(['tree', '--format', 'squashfs', '-o', image]);
  expect(made.exitCode, made.stderr).toBe(0);
  const listed = (await execa('unsquashfs', ['-l', '-d', '', image])).stdout.split('\n');
  expect(listed).toEqual(expect.arrayContaining(['/usr/bin/tree', '/usr/lib/extension-release.d/extension-release.tree-squash']));
  expect(listed.some((l) => l.startsWith('/usr/lib/sysimage') || l.startsWith('/usr/etc'))).toBe(false);
}, 600_000);

test('a package that needs /etc files and an account is refused, naming them, and nothing is written', async () => {
  const before = await repoState();
  const image = join(work, 'cron.raw');
  const refused = await run(['--no-install-recommends', 'cron', '-o', image]);
  expect(refused.exitCode).toBe(1);
  const errors = refused.stderr.split('\n').filter((l) => l.startsWith('deblayer:'));
  expect(errors).toHaveLength(1);
  expect(errors[0]).toMatch(/^deblayer: error: cannot make cron\.raw of cron: files in \/etc, where a system extension puts nothing \(/);
  expect(errors[0]).toContain('cron: /etc/default/cron, /etc/init.d/cron, /etc/pam.d/cron;');
  expect(errors[0]).toMatch(/made by maintainer scripts: \/etc\/rc2\.d\/S01cron/);
  expect(errors[0]).toContain('); --without-etc leaves them out, for programs that run without them;');
  expect(errors[0]).toMatch(/accounts that maintainer scripts create \(crontab\), which a system extension cannot carry$/);
  // Leaving /etc out does not make the account any less needed.
  const stillRefused = await run(['--no-install-recommends', '--without-etc', 'cron', '-o', image]);
  expect(stillRefused.exitCode).toBe(1);
  expect(stillRefused.stderr).toMatch(/^deblayer: error: cannot make cron\.raw of cron: accounts that maintainer scripts create \(crontab\), which a system extension cannot carry$/m);
  expect(existsSync(image)).toBe(false);
  expect(await repoState()).toBe(before);
}, 600_000);

test("vim-tiny: refused for its conffile; with --without-etc, vi and editor lead straight to vim.tiny, as update-alternatives chose", async () => {
  const image = join(work, 'vim.raw');
  const refused = await run(['--no-install-recommends', 'vim-tiny', '-o', image]);
  expect(refused.exitCode).toBe(1);
  expect(refused.stderr).toMatch(/^deblayer: error: cannot make vim\.raw of vim-tiny: files in \/etc, where a system extension puts nothing \(vim-common: \/etc\/vim\/vimrc; vim-tiny: \/etc\/vim\/vimrc\.tiny\); --without-etc leaves them out/m);
  expect(refused.stderr).not.toContain('/etc/alternatives');
  expect(existsSync(image)).toBe(false);
  const made = await run(['--no-install-recommends', '--without-etc', 'vim-tiny', '-o', image]);
  expect(made.exitCode, made.stderr).toBe(0);
  expect(made.stderr).toContain('left out, as --without-etc asks (the programs run without them): vim-common: /etc/vim/vimrc; vim-tiny: /etc/vim/vimrc.tiny');
  const out = join(work, 'vim-extracted');
  await execa('fsck.erofs', [`--extract=${out}`, image]);
  expect(readdirSync(out)).toEqual(['usr']);
  // The only choice for each generic name, as update-alternatives chose it, without the host's /etc in between.
  for (const name of ['vi', 'editor', 'ex', 'view']) expect(readlinkSync(join(out, 'usr/bin', name))).toBe('/usr/bin/vim.tiny');
  const deb = (await execa('find', [join(work, 'cache'), '-name', 'vim-tiny_*.deb'])).stdout.split('\n')[0]!;
  const ref = join(work, 'vim-deb');
  await execa('dpkg-deb', ['-x', deb, ref]);
  expect(readFileSync(join(out, 'usr/bin/vim.tiny')).equals(readFileSync(join(ref, 'usr/bin/vim.tiny')))).toBe(true);
  expect(existsSync(join(out, 'usr/share/deblayer'))).toBe(false);
  expect(existsSync(join(out, 'usr/etc'))).toBe(false);
}, 600_000);

test('an image name systemd-sysext would not take, and a package the base has, are refused before any build', async () => {
  const badName = await run(['tree', '-o', join(work, 'tree.img')]);
  expect([badName.exitCode, badName.stderr.trim()]).toEqual([2, `deblayer: error: -o ${join(work, 'tree.img')}: a system extension image is named NAME.raw, as systemd-sysext looks for it`]);
  const there = await run(['bash', '-o', join(work, 'bash.raw')]);
  expect(there.exitCode).not.toBe(0);
  expect(there.stderr.trim().split('\n').pop()).toMatch(/^deblayer: error: package bash is already in the base \(.*\): nothing to layer/);
  expect(existsSync(join(work, 'bash.raw'))).toBe(false);
}, 300_000);
