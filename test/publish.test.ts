// publish and rebase: a builder's repository published as an archive-mode
// directory (static deltas, summary, GPG signatures), served over HTTP, and an
// offline sysroot rebased onto one of its branches, then upgraded from it;
// an unsigned remote is refused unless --no-gpg-verify, and status says so.

import { execa } from 'execa';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, inject, test } from 'vitest';
import { buildFixtureWorld, type FixtureWorld } from './helpers/apt-repo.js';
import { deblayer } from './helpers/cli.js';
import { serveDirectory, type HttpRepo } from './helpers/http-repo.js';
import { inPrivateMountNamespace } from './helpers/sysroot.js';

let dir: string;
let world: FixtureWorld;
let repo: string;
let sysroot: string;
let cache: string;
let gnupg: string;
let keyId: string;
let keyFile: string;
let trusted: string;
let signed: string;
let plain: string;
const commits: Record<string, string> = {};
const servers: HttpRepo[] = [];

const ostree = async (args: string[]) => (await execa('ostree', args, { env: { LC_ALL: 'C' } })).stdout;
const short = (c: string) => c.slice(0, 10);

async function importBase(name: string, ref: string, file?: string): Promise<string> {
  const root = join(dir, name);
  await execa('cp', ['-a', world.rootfs, root]);
  if (file) writeFileSync(join(root, 'usr/share', file), `${name}\n`);
  const r = await deblayer(['--repo', repo, '--json', 'base', 'import', root, '-b', ref]);
  expect(r.exitCode, r.stderr).toBe(0);
  rmSync(root, { recursive: true, force: true });
  return JSON.parse(r.stdout).commit as string;
}

async function makeKey(): Promise<void> {
  gnupg = join(dir, 'gnupg-publish');
  mkdirSync(gnupg, { mode: 0o700 });
  const gpg = (args: string[]) => execa('gpg', ['--homedir', gnupg, '--batch', '--quiet', '--pinentry-mode', 'loopback', '--passphrase', '', ...args]);
  await gpg(['--quick-gen-key', 'deblayer publish test <publish@deblayer.invalid>', 'ed25519', 'sign', 'never']);
  keyId = /^fpr:+([0-9A-F]+):/m.exec((await gpg(['--with-colons', '--list-secret-keys'])).stdout)![1]!;
  keyFile = join(dir, 'publish-key.asc');
  await gpg(['--armor', '--output', keyFile, '--export', keyId]);
  // What a verifying ostree reads: a keyring of trusted keys in a home of its own.
  trusted = join(dir, 'trusted');
  mkdirSync(trusted, { mode: 0o700 });
  await gpg(['--output', join(trusted, 'trustedkeys.gpg'), '--export', keyId]);
}

beforeAll(async () => {
  if (!inPrivateMountNamespace()) throw new Error('run with npm test: this test mounts a tmpfs sysroot');
  dir = mkdtempSync(join(tmpdir(), 'deblayer-publish-'));
  world = await buildFixtureWorld(join(dir, 'world'), inject('fixtures').kernel!.xz!);
  repo = join(dir, 'builder');
  commits.first = await importBase('rootfs1', 'fx/base');
  commits.second = await importBase('rootfs2', 'fx/base', 'second-build');
  commits.other = await importBase('rootfs3', 'fx/other', 'other-branch');
  // deblayer's own bookkeeping in the builder's repository, which must stay private.
  await ostree([`--repo=${repo}`, 'refs', `--create=deblayer/state/1`, commits.first]);
  await makeKey();
  signed = join(dir, 'signed');
  plain = join(dir, 'plain');
  cache = join(dir, 'cache');
  sysroot = join(dir, 'sysroot');
  mkdirSync(sysroot);
  await execa('mount', ['-t', 'tmpfs', 'tmpfs', sysroot]);
  const sysrepo = `--repo=${sysroot}/ostree/repo`;
  await ostree(['admin', 'init-fs', sysroot]);
  await ostree(['admin', 'os-init', 'fx', `--sysroot=${sysroot}`]);
  await ostree([sysrepo, 'remote', 'add', '--no-gpg-verify', 'origin', `file://${repo}`]);
  await ostree([sysrepo, 'pull', 'origin', 'fx/base']);
  await ostree(['admin', 'deploy', `--sysroot=${sysroot}`, '--os=fx', 'origin:fx/base']);
  const r = await run(['install', 'fx-app']);
  expect(r.exitCode, r.stderr).toBe(0);
});
afterAll(async () => {
  for (const s of servers) await s.close();
  if (gnupg) await execa('gpgconf', ['--homedir', gnupg, '--kill', 'gpg-agent'], { reject: false });
  if (sysroot) await execa('umount', ['--lazy', sysroot], { reject: false });
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const run = (args: string[], global: string[] = []) => deblayer(['--sysroot', sysroot, '--cache-dir', cache, ...global, ...args]);
const publish = (args: string[], global: string[] = []) => deblayer(['--repo', repo, ...global, 'publish', ...args], { env: { GNUPGHOME: gnupg } });
const serve = async (path: string) => {
  const s = await serveDirectory(path);
  servers.push(s);
  return s;
};
const defaultDeployment = async () => JSON.parse((await run(['status'], ['--json'])).stdout).deployments[0];
const history = async () => JSON.parse((await run(['history'], ['--json'])).stdout).entries.map((e: { command: string; result: string }) => `${e.command}:${e.result}`);

test('publish makes an archive repository with the branches, a static delta and the summary, and nothing of deblayer/', async () => {
  const r = await publish([plain]);
  expect(r.exitCode, r.stderr).toBe(0);
  expect(r.stdout).toContain(`Published fx/base: ${short(commits.second!)} (new branch); static delta from ${short(commits.first!)}`);
  expect(r.stdout).toContain(`Published fx/other: ${short(commits.other!)} (new branch)`);
  expect(r.stderr).toMatch(/Updating the summary/);
  expect((await ostree([`--repo=${plain}`, 'config', 'get', 'core.mode'])).trim()).toMatch(/^archive/);
  expect((await ostree([`--repo=${plain}`, 'refs'])).split('\n').sort()).toEqual(['fx/base', 'fx/other']);
  const summary = await ostree([`--repo=${plain}`, 'summary', '--view']);
  expect(summary).toMatch(/^\* fx\/base$/m);
  expect(summary).toMatch(/^\* fx\/other$/m);
  expect(summary).toContain(commits.second!);
  expect(summary).not.toContain('deblayer/');
  expect(await ostree([`--repo=${plain}`, 'static-delta', 'list'])).toContain(`${commits.first}-${commits.second}`);

  const summaryBytes = readFileSync(join(plain, 'summary'));
  const again = await publish([plain, '--unchanged-exit-77']);
  expect(again.exitCode, again.stderr).toBe(77);
  expect(again.stdout).toBe(`Nothing new to publish: ${plain} has the commits of fx/base, fx/other already.`);
  expect(readFileSync(join(plain, 'summary'))).toEqual(summaryBytes);
  const refused = await publish([plain, '--branch', 'deblayer/state/1']);
  expect(refused.exitCode).toBe(2);
  expect(refused.stderr).toBe("deblayer: error: deblayer/state/1 is deblayer's own bookkeeping (deblayer/), not a branch to publish");
});

test('publish --gpg-sign signs the new commits and the summary with the key of GNUPGHOME', async () => {
  const r = await publish([signed, '--gpg-sign', keyId], ['--json']);
  expect(r.exitCode, r.stderr).toBe(0);
  const result = JSON.parse(r.stdout);
  expect(result).toMatchObject({ created: true, summarySigned: true, unchanged: [] });
  expect(result.branches).toEqual([
    { ref: 'fx/base', commit: commits.second, delta: true, deltaFrom: commits.first, signed: true },
    { ref: 'fx/other', commit: commits.other, delta: false, signed: true },
  ]);
  const show = await ostree([`--repo=${signed}`, 'show', 'fx/base', `--gpg-homedir=${trusted}`]);
  expect(show).toContain('Good signature from "deblayer publish test <publish@deblayer.invalid>"');
  // A client that verifies the summary accepts this one and refuses the unsigned one.
  const client = join(dir, 'client');
  await ostree([`--repo=${client}`, 'init', '--mode=bare-user']);
  for (const [name, path] of [['s', signed], ['u', plain]] as const) {
    await ostree([`--repo=${client}`, 'remote', 'add', `--gpg-import=${keyFile}`, '--set=gpg-verify-summary=true', name, `file://${path}`]);
  }
  expect(await ostree([`--repo=${client}`, 'remote', 'refs', 's'])).toContain('s:fx/other');
  const unsigned = await execa('ostree', [`--repo=${client}`, 'remote', 'refs', 'u'], { reject: false });
  expect(unsigned.exitCode).not.toBe(0);
});

test('rebase onto a branch of a signed remote keeps the layered packages; the origin follows the new branch', async () => {
  const server = await serve(signed);
  const r = await run(['rebase', '--remote', `pub=${server.url}`, '--gpg-import', keyFile, 'pub:fx/other'], ['--json']);
  expect(r.exitCode, r.stderr).toBe(0);
  const result = JSON.parse(r.stdout);
  expect(result).toMatchObject({ previousRefspec: 'origin:fx/base', refspec: 'pub:fx/other', previousBase: commits.second, newBase: commits.other });
  const deployment = result.deployed.path as string;
  expect(readFileSync(join(deployment, 'usr/share/other-branch'), 'utf8')).toBe('rootfs3\n');
  expect(existsSync(join(deployment, 'usr/share/second-build'))).toBe(false);
  expect(existsSync(join(deployment, 'usr/share/doc/fx-app/marker'))).toBe(true);
  const origin = readFileSync(`${deployment}.origin`, 'utf8');
  expect(origin).toMatch(/^baserefspec=pub:fx\/other$/m);
  expect(origin).toMatch(/^requested=fx-app;$/m);
  expect(await defaultDeployment()).toMatchObject({ baseRefspec: 'pub:fx/other', baseRemote: { name: 'pub', gpgVerify: true }, requested: ['fx-app'] });
  const again = await run(['rebase', 'pub:fx/other', '--unchanged-exit-77']);
  expect(again.exitCode, again.stderr).toBe(77);
  expect(again.stdout).toBe(`Already on pub:fx/other at ${short(commits.other!)}: nothing to do.`);
});

test('a newer commit published with its delta reaches the rebased host by upgrade; a bad key changes nothing', async () => {
  commits.other2 = await importBase('rootfs4', 'fx/other', 'other-branch-2');
  const summaryBytes = readFileSync(join(signed, 'summary'));
  const bad = await publish([signed, '--gpg-sign', 'NOSUCHKEY0000']);
  expect(bad.exitCode).toBe(1);
  expect(bad.stderr.trim().split('\n').filter((l) => l.startsWith('deblayer:'))).toHaveLength(1);
  expect(bad.stderr).toMatch(new RegExp(`deblayer: error: ostree: cannot sign ${short(commits.other2!)} in ${signed} with key NOSUCHKEY0000: .*NOSUCHKEY0000`));
  expect((await ostree([`--repo=${signed}`, 'rev-parse', 'fx/other'])).trim()).toBe(commits.other);
  expect(readFileSync(join(signed, 'summary'))).toEqual(summaryBytes);

  // The key from --gpg-homedir, with a GNUPGHOME that has none.
  const empty = join(dir, 'gnupg-empty');
  mkdirSync(empty, { mode: 0o700 });
  const good = await deblayer(['--repo', repo, 'publish', signed, '--gpg-sign', keyId, '--gpg-homedir', gnupg], { env: { GNUPGHOME: empty } });
  expect(good.exitCode, good.stderr).toBe(0);
  expect(good.stdout).toContain(`Published fx/other: ${short(commits.other!)} -> ${short(commits.other2!)}; static delta from ${short(commits.other!)}; signed`);
  // --check asks the server, which has other2 now; the host's repository pulls nothing for it.
  const sysrepo = `--repo=${sysroot}/ostree/repo`;
  expect((await ostree([sysrepo, 'rev-parse', 'pub:fx/other'])).trim()).toBe(commits.other);
  const checked = await run(['upgrade', '--check']);
  expect(checked.exitCode, checked.stderr).toBe(0);
  expect(checked.stdout).toMatch(new RegExp(`^Base ${short(commits.other!)} -> ${short(commits.other2!)} \\((version [^,]+, )?on remote pub, not pulled yet\\)$`));
  expect((await ostree([sysrepo, 'rev-parse', 'pub:fx/other'])).trim()).toBe(commits.other);
  expect(existsSync(join(sysroot, 'ostree/repo/objects', commits.other2!.slice(0, 2), `${commits.other2!.slice(2)}.commit`))).toBe(false);
  const local = await run(['upgrade', '--check', '--cache-only']);
  expect(local.exitCode, `${local.stdout}${local.stderr}`).toBe(77);

  const server = servers[0]!;
  server.requests.length = 0;
  const r = await run(['upgrade'], ['--json']);
  expect(r.exitCode, r.stderr).toBe(0);
  const result = JSON.parse(r.stdout);
  expect(result).toMatchObject({ previousBase: commits.other, newBase: commits.other2 });
  expect(readFileSync(join(result.deployed.path, 'usr/share/other-branch-2'), 'utf8')).toBe('rootfs4\n');
  expect(existsSync(join(result.deployed.path, 'usr/share/doc/fx-app/marker'))).toBe(true);
  // The host had the previous commit: ostree fetched the static delta, not the objects one by one.
  expect(server.requests.some((p) => p.startsWith('/deltas/'))).toBe(true);
  expect(server.requests.some((p) => p.startsWith('/objects/') && p.endsWith('.filez'))).toBe(false);
  expect((await run(['upgrade', '--check'])).exitCode).toBe(77);
});

test('an unsigned remote is refused with one clear line and nothing changed; --no-gpg-verify takes it and status says so', async () => {
  const server = await serve(plain);
  const sysrepo = `--repo=${sysroot}/ostree/repo`;
  const before = {
    deployments: await ostree(['admin', 'status', `--sysroot=${sysroot}`]),
    refs: await ostree([sysrepo, 'refs']),
    remotes: await ostree([sysrepo, 'remote', 'list']),
    history: await history(),
  };
  const r = await run(['rebase', '--remote', `plain=${server.url}`, 'plain:fx/base']);
  expect(r.exitCode).toBe(1);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(new RegExp(`^deblayer: error: remote plain \\(${server.url}\\): fx/base failed signature verification \\(Commit [0-9a-f]{64}: GPG verification enabled, but no signatures found\\): give the remote its key with --gpg-import KEYFILE, or use --no-gpg-verify for an unsigned remote$`));
  expect(await ostree(['admin', 'status', `--sysroot=${sysroot}`])).toBe(before.deployments);
  expect(await ostree([sysrepo, 'refs'])).toBe(before.refs);
  expect(await ostree([sysrepo, 'remote', 'list'])).toBe(before.remotes);
  expect(await history()).toEqual([...before.history, 'rebase:failed']);

  const ok = await run(['rebase', '--remote', `plain=${server.url}`, '--no-gpg-verify', 'plain:fx/base']);
  expect(ok.exitCode, ok.stderr).toBe(0);
  expect(ok.stdout).toContain(`Rebase pub:fx/other -> plain:fx/base; base ${short(commits.other2!)} -> ${short(commits.second!)}`);
  expect(await defaultDeployment()).toMatchObject({ baseRefspec: 'plain:fx/base', baseRemote: { name: 'plain', gpgVerify: false }, requested: ['fx-app'] });
  expect((await run(['status'])).stdout).toContain('Unverified: remote plain does not verify signatures (gpg-verify=false)');
  await execa('ostree', ['fsck', sysrepo, '--quiet']);
});

test('a dry run pulls nothing; a rebase that fails after its pull takes back the remote and ref it made', async () => {
  const sysrepo = `--repo=${sysroot}/ostree/repo`;
  const state = async () => ({
    deployments: await ostree(['admin', 'status', `--sysroot=${sysroot}`]),
    refs: await ostree([sysrepo, 'refs']),
    remotes: await ostree([sysrepo, 'remote', 'list']),
  });
  const before = await state();
  const dry = await run(['rebase', '-n', 'pub:fx/other']);
  expect(dry.exitCode, dry.stderr).toBe(0);
  expect(dry.stdout).toContain(`Rebase plain:fx/base -> pub:fx/other; base ${short(commits.second!)} -> ${short(commits.other2!)}`);
  expect(dry.stdout).toContain('fx-app');
  const notPulled = await run(['rebase', '-n', '--remote', `new=${servers[0]!.url}`, 'new:fx/other']);
  expect(notPulled.stdout).toContain('-> new:fx/other; base');
  expect(notPulled.stdout).toContain('(not pulled yet: a dry run does not pull)');
  expect(await state()).toEqual(before);

  // A branch whose commit is no Debian tree: the pull works, composing on it does not.
  const tree = join(dir, 'not-debian');
  mkdirSync(join(tree, 'usr/share'), { recursive: true });
  writeFileSync(join(tree, 'usr/share/readme'), 'not a Debian tree\n');
  await ostree([`--repo=${repo}`, 'commit', '-b', 'fx/broken', `--tree=dir=${tree}`, '-s', 'broken']);
  expect((await publish([plain, '--branch', 'fx/broken'])).exitCode).toBe(0);
  const server = servers[1]!;
  const failed = await run(['rebase', '--remote', `broken=${server.url}`, '--no-gpg-verify', 'broken:fx/broken']);
  expect(failed.exitCode).not.toBe(0);
  expect(failed.stderr).toMatch(/^deblayer: error: commit [0-9a-f]{10} has no dpkg database/);
  expect(failed.stderr.trim().split('\n')).toHaveLength(1);
  expect(server.requests.some((p) => p.includes('/objects/'))).toBe(true);
  expect(await state()).toEqual(before);
  const unknown = await run(['rebase', 'plain:fx/nope']);
  expect(unknown.exitCode).toBe(1);
  expect(unknown.stderr.trim().split('\n')).toHaveLength(1);
  expect(unknown.stderr).toContain('cannot pull plain:fx/nope');
  expect(await state()).toEqual(before);
  expect((await history()).slice(-2)).toEqual(['rebase:failed', 'rebase:failed']);
});
