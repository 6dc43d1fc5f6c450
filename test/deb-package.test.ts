// deblayer as a Debian package (`npm run deb`, packaging/build-deb.mjs): what
// an admin who installs it, and lintian, see. Built once into a temporary
// directory; the fields, the file list and the copyright file are read with
// dpkg-deb, lintian judges the package with its shipped overrides, and the
// program unpacked from it runs. The boot test that layers this package into
// a trixie guest and runs it there is in test/boot.test.ts.

import { execa } from 'execa';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const PROJECT = new URL('../', import.meta.url).pathname;
const VERSION = (JSON.parse(readFileSync(join(PROJECT, 'package.json'), 'utf8')) as { version: string }).version;

describe('npm run deb', () => {
  let work: string;
  let deb: string;
  let contents: string[];
  let listing: string[];

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'deblayer-deb-'));
    const built = await execa('npm', ['run', '--silent', 'deb', '--', work], { cwd: PROJECT, reject: false });
    expect(built.exitCode, built.stderr).toBe(0);
    const arch = (await execa('dpkg', ['--print-architecture'])).stdout.trim();
    deb = join(work, `deblayer_${VERSION}_${arch}.deb`);
    expect(built.stdout.trim()).toBe(deb);
    // "-rw-r--r-- root/root 123 2026-11-30 12:00 ./usr/bin/deblayer" → "/usr/bin/deblayer"
    listing = (await execa('dpkg-deb', ['-c', deb], { env: { TZ: 'UTC' } })).stdout.split('\n');
    contents = listing.map((l) => l.replace(/^.*? \.\//, '/').replace(/ -> .*$/, ''));
  }, 300_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const field = async (name: string) => (await execa('dpkg-deb', ['-f', deb, name])).stdout.trim();

  test('names the package, the version of package.json and this machine\'s architecture', async () => {
    expect(await field('Package')).toBe('deblayer');
    expect(await field('Version')).toBe(VERSION);
    expect(await field('Architecture')).toBe((await execa('dpkg', ['--print-architecture'])).stdout.trim());
    expect(Number(await field('Installed-Size'))).toBeGreaterThan(1000);
    expect(await field('Maintainer')).toMatch(/^.+ <.+@.+>$/);
    // md5sums: what dpkg --verify deblayer checks on a host.
    expect((await execa('dpkg-deb', ['-I', deb])).stdout).toMatch(/^ +\d+ bytes, +\d+ lines +md5sums/m);
  });

  test('depends on what deblayer runs on a host: Node 20, libostree and libapt for python, ostree, apt, bubblewrap', async () => {
    const depends = (await field('Depends')).split(/,\s*/);
    const names = depends.map((d) => d.split(' ')[0]);
    for (const p of ['nodejs', 'python3', 'python3-gi', 'gir1.2-ostree-1.0', 'python3-apt', 'apt', 'ostree', 'bubblewrap', 'mount', 'xz-utils', 'libc6', 'libstdc++6']) {
      expect(names, `Depends: ${depends.join(', ')}`).toContain(p);
    }
    expect(depends).toContain('nodejs (>= 20)');
    // deblayer image's tools are suggested, not forced onto every host.
    expect((await field('Suggests')).split(/,\s*/)).toEqual(expect.arrayContaining(['e2fsprogs', 'dosfstools', 'mtools', 'fdisk', 'grub-efi-amd64-bin']));
  });

  test('ships the command, the man page, the bash completion, the automatic upgrade\'s units, the python helpers, the native modules and the copyright, and no build leftovers', () => {
    for (const path of [
      '/usr/bin/deblayer',
      '/usr/lib/deblayer/dist/bundle/main.js',
      '/usr/lib/deblayer/package.json',
      '/usr/lib/deblayer/python/worker.py',
      '/usr/lib/deblayer/python/apt_resolve.py',
      '/usr/lib/deblayer/python/ostree_ops/commit_layer.py',
      '/usr/lib/deblayer/node_modules/better-sqlite3/build/Release/better_sqlite3.node',
      '/usr/lib/deblayer/node_modules/zstd-napi/build/Release/binding.node',
      '/usr/share/man/man8/deblayer.8.gz',
      '/usr/share/bash-completion/completions/deblayer',
      '/usr/lib/systemd/system/deblayer-upgrade.service',
      '/usr/lib/systemd/system/deblayer-upgrade.timer',
      '/usr/share/doc/deblayer/copyright',
      '/usr/share/doc/deblayer/changelog.gz',
      '/usr/share/lintian/overrides/deblayer',
    ]) {
      expect(contents, path).toContain(path);
    }
    // Only production modules, no compiler intermediates, no source maps, no python caches.
    for (const unwanted of [/\/node_modules\/typescript\//, /\/node_modules\/vitest\//, /\/obj\.target\//, /^\/usr\/lib\/deblayer\/dist\/.*\.map$/, /__pycache__/, /\/test_extension\.node$/]) {
      expect(contents.filter((p) => unwanted.test(p)), String(unwanted)).toEqual([]);
    }
  });

  test('every member has the last commit\'s time and root ownership: two builds of one commit are alike', async () => {
    const epoch = Number((await execa('git', ['-C', PROJECT, 'log', '-1', '--format=%ct'])).stdout.trim());
    const stamp = new Date(epoch * 1000).toISOString().slice(0, 16).replace('T', ' ');
    const odd = listing.filter((l) => !l.includes(` ${stamp} `) || !/^\S+ root\/root /.test(l));
    expect(odd, `members not stamped ${stamp} root/root`).toEqual([]);
  });

  test('the copyright file is machine-readable, GPL-3+ for deblayer, with a paragraph for every bundled node module', async () => {
    const copyright = (await execa('sh', ['-c', `dpkg-deb --fsys-tarfile "$1" | tar -xOf - ./usr/share/doc/deblayer/copyright`, 'sh', deb])).stdout;
    expect(copyright).toMatch(/^Format: https:\/\/www\.debian\.org\/doc\/packaging-manuals\/copyright-format\/1\.0\//);
    expect(copyright).toMatch(/^Files: \*\nCopyright: .+\nLicense: GPL-3\+$/m);
    const modules = new Set(contents.map((p) => /^\/usr\/lib\/deblayer\/((?:node_modules\/(?:@[^/]+\/[^/]+|[^@/][^/]*)\/)+)/.exec(p)?.[1]).filter((m): m is string => m !== undefined).map((m) => m.replace(/\/$/, '')));
    expect(modules.size).toBeGreaterThan(10);
    for (const m of modules) expect(copyright, m).toContain(`Files: usr/lib/deblayer/${m}/*\n`);
    // The program's bundle carries the modules built into it, and their licenses beside deblayer's.
    const bundle = /^Files: usr\/lib\/deblayer\/dist\/bundle\/\*\n(?:[^\n]+\n)*?License: (.+)\nComment: ([\s\S]+?)\n\n/m.exec(copyright);
    expect(bundle, 'a paragraph for dist/bundle').not.toBeNull();
    expect(bundle![1]!).toMatch(/^GPL-3\+ and .*Expat/);
    expect(bundle![2]!.replace(/\n /g, ' ')).toMatch(/commander 14\.[\d.]+, .*tar-stream 3\./);
    // Every license named has its text (or a pointer to /usr/share/common-licenses).
    const named = new Set([...copyright.matchAll(/^License: (.+)$/gm)].flatMap((m) => m[1]!.replace(/[()]/g, '').split(/ (?:or|and) /)));
    for (const name of named) expect(copyright, name).toMatch(new RegExp(`^License: ${name.replace(/[+.]/g, '\\$&')}\\n `, 'm'));
  });

  test('lintian finds no error, warning or info tag that the package does not override with a reason', async () => {
    const r = await execa('lintian', ['--info', '--pedantic', '--display-experimental', deb], { reject: false, env: { LC_ALL: 'C.UTF-8' } });
    const tags = r.stdout.split('\n').filter((l) => /^[EWIPX]: /.test(l));
    expect(tags, r.stdout + r.stderr).toEqual([]);
    expect(r.exitCode, r.stderr).toBe(0);
    // Every override is explained by the comment above it.
    const overrides = (await execa('sh', ['-c', `dpkg-deb --fsys-tarfile "$1" | tar -xOf - ./usr/share/lintian/overrides/deblayer`, 'sh', deb])).stdout.split('\n');
    overrides.forEach((line, i) => {
      if (/^deblayer: /.test(line)) expect(overrides[i - 1], line).toMatch(/^(#|deblayer: )/);
    });
  }, 120_000);

  test('the program unpacked from the package runs: --version, and deb info on the package itself', async () => {
    const root = join(work, 'root');
    await execa('dpkg-deb', ['-x', deb, root]);
    const main = join(root, 'usr/lib/deblayer/dist/bundle/main.js');
    const version = await execa('node', [main, '--version'], { reject: false });
    expect(version.stdout.trim(), version.stderr).toBe(VERSION);
    const info = await execa('node', [main, 'deb', 'info', deb], { reject: false, env: { LC_ALL: 'C' } });
    expect(info.exitCode, info.stderr).toBe(0);
    expect(info.stdout).toMatch(/^ Package: deblayer$/m);
    expect(info.stdout).toMatch(new RegExp(`^ Version: ${VERSION.replace(/\./g, '\\.')}$`, 'm'));
    // The layer database's native module loads from the package's own node_modules.
    const sqlite = await execa('node', ['-e', `const D = require(${JSON.stringify(join(root, 'usr/lib/deblayer/node_modules/better-sqlite3'))}); process.stdout.write(new D(':memory:').prepare('select 1 + 1 as two').get().two + '')`], { reject: false });
    expect(sqlite.stdout, sqlite.stderr).toBe('2');
    // /usr/bin/deblayer runs Debian's node on that main.js.
    expect(readFileSync(join(root, 'usr/bin/deblayer'), 'utf8')).toBe('#!/bin/sh\nexec /usr/bin/node /usr/lib/deblayer/dist/bundle/main.js "$@"\n');
    expect(readdirSync(join(root, 'usr/lib/deblayer')).sort()).toEqual(['dist', 'node_modules', 'package.json', 'python']);
    // bash-completion loads the shipped script for the command: the one the packaged program prints.
    const shipped = join(root, 'usr/share/bash-completion/completions/deblayer');
    expect(readFileSync(shipped, 'utf8')).toBe((await execa('node', [main, 'completion', 'bash'])).stdout + '\n');
    const loaded = await execa('bash', ['--norc', '--noprofile', '-c', 'source "$1" && complete -p deblayer', 'bash', shipped]);
    expect(loaded.stdout).toBe('complete -F _deblayer deblayer');
  });
});
