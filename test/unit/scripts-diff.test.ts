// What the maintainer scripts changed, read back from the overlay's upper
// directories: what of /usr goes into the layer (pruneUsrLayer), and what of
// /var becomes tmpfiles.d lines (varState). On small trees made in a
// temporary directory, as the scripts stage would find them after unmounting.
// Whiteouts (character devices 0:0) need root to make: that test is skipped
// for other users.

import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { accountsOf } from '../../src/base/accounts.js';
import { pruneUsrLayer, varState } from '../../src/scripts/diff.js';

let work: string;
let upper: string;
let lower: string;
beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'deblayer-diff-'));
  upper = join(work, 'upper');
  lower = join(work, 'lower');
  mkdirSync(upper);
  mkdirSync(lower);
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

/** Writes FILES (path -> content, or { link } for a symlink) under TOP. */
function tree(top: string, files: Record<string, string | { link: string }>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(top, path)), { recursive: true });
    if (typeof content === 'string') writeFileSync(join(top, path), content);
    else symlinkSync(content.link, join(top, path));
  }
}

/** A whiteout at PATH under TOP: what overlayfs leaves for a deleted lower file. */
function whiteout(top: string, path: string): void {
  mkdirSync(dirname(join(top, path)), { recursive: true });
  execFileSync('mknod', [join(top, path), 'c', '0', '0']);
}

const asRoot = process.getuid?.() === 0;

/** Every non-directory path left under TOP, sorted. */
function left(top: string, rel = ''): string[] {
  return readdirSync(join(top, rel))
    .sort()
    .flatMap((name) => {
      const path = rel === '' ? name : `${rel}/${name}`;
      return lstatSync(join(top, path)).isDirectory() ? left(top, path) : [path];
    });
}

const DATABASE = 'usr/lib/sysimage/dpkg';

describe('pruneUsrLayer', () => {
  test("keeps what the scripts made or changed; drops dpkg's locks and backups, account files, deblayer's own files and copy-ups that changed nothing", () => {
    const same = { 'share/fx/same': 'same\n', 'share/fx/same-link': { link: 'same' }, 'share/fx/edited': 'before\n', 'share/fx/chmod': 'mode\n', 'share/fx/relinked': { link: 'same' } };
    tree(lower, same);
    tree(upper, {
      ...same,
      'share/fx/edited': 'after\n',
      'share/fx/relinked': { link: 'edited' },
      'share/fx/made-by-postinst': 'new\n',
      'lib/sysimage/dpkg/status': 'Package: fx\n',
      'lib/sysimage/dpkg/lock': '',
      'lib/sysimage/dpkg/lock-frontend': '',
      'lib/sysimage/dpkg/triggers/Lock': '',
      'lib/sysimage/dpkg/status-old': 'old\n',
      'lib/sysimage/debconf/config.dat-old': 'old\n',
      'lib/sysimage/debconf/config.dat': 'Name: fx/question\n',
      'etc/passwd': 'root:x:0:0::/root:/bin/sh\n',
      'etc/shadow-': '',
      'etc/.pwd.lock': '',
      'etc/fx.conf': 'written by postinst\n',
      'sbin/policy-rc.d': '#!/bin/sh\nexit 101\n',
    });
    chmodSync(join(upper, 'share/fx/chmod'), 0o600);
    const r = pruneUsrLayer(upper, lower, DATABASE, new Set(['sbin/policy-rc.d']));
    expect(r.secrets).toEqual([]);
    expect(r.dropped).toEqual([
      { path: '/etc/.pwd.lock', why: 'accounts' },
      { path: '/etc/passwd', why: 'accounts' },
      { path: '/etc/shadow-', why: 'accounts' },
      { path: '/usr/lib/sysimage/debconf/config.dat-old', why: 'debconf' },
      { path: '/usr/lib/sysimage/dpkg/lock', why: 'dpkg' },
      { path: '/usr/lib/sysimage/dpkg/lock-frontend', why: 'dpkg' },
      { path: '/usr/lib/sysimage/dpkg/status-old', why: 'dpkg' },
      { path: '/usr/lib/sysimage/dpkg/triggers/Lock', why: 'dpkg' },
      { path: '/usr/sbin/policy-rc.d', why: 'deblayer' },
      { path: '/usr/share/fx/same', why: 'unchanged' },
      { path: '/usr/share/fx/same-link', why: 'unchanged' },
    ]);
    // What is left is the layer: taking a file out of the upper leaves the commit's own version.
    const kept = ['etc/fx.conf', 'lib/sysimage/debconf/config.dat', 'lib/sysimage/dpkg/status', 'share/fx/chmod', 'share/fx/edited', 'share/fx/made-by-postinst', 'share/fx/relinked'];
    expect(left(upper)).toEqual(kept);
    expect(r.changed).toBe(kept.length);
  });

  test('the dpkg database may live elsewhere: its locks are found there', () => {
    tree(upper, { 'share/dpkg/database/lock': '', 'lib/sysimage/dpkg/lock': '' });
    const r = pruneUsrLayer(upper, lower, 'usr/share/dpkg/database', new Set());
    expect(r.dropped).toEqual([{ path: '/usr/share/dpkg/database/lock', why: 'dpkg' }]);
    expect(left(upper)).toEqual(['lib/sysimage/dpkg/lock']);
  });

  test('leaves out host secrets, and a private key takes its certificate and the hash links to it along', () => {
    tree(upper, {
      'etc/machine-id': '0123456789abcdef0123456789abcdef\n',
      'etc/ssh/ssh_host_ed25519_key': 'PRIVATE\n',
      'etc/ssh/ssh_host_ed25519_key.pub': 'ssh-ed25519 AAAA\n',
      'etc/ssh/sshd_config': 'Port 22\n',
      'etc/ssl/private/ssl-cert-snakeoil.key': 'PRIVATE\n',
      'etc/ssl/certs/ssl-cert-snakeoil.pem': 'CERT\n',
      'etc/ssl/certs/3bd5c4d0.0': { link: 'ssl-cert-snakeoil.pem' },
      'etc/ssl/certs/deadbeef.0': { link: '/etc/ssl/certs/ssl-cert-snakeoil.pem' },
      'etc/ssl/certs/ca.pem': 'A CA\n',
      'etc/ssl/certs/12345678.0': { link: 'ca.pem' },
      'lib/dbus/machine-id': '0123456789abcdef0123456789abcdef\n',
    });
    const r = pruneUsrLayer(upper, lower, DATABASE, new Set());
    expect(r.secrets).toEqual([
      { path: '/etc/machine-id', why: 'the machine id' },
      { path: '/etc/ssh/ssh_host_ed25519_key', why: 'an SSH host key' },
      { path: '/etc/ssh/ssh_host_ed25519_key.pub', why: 'an SSH host key' },
      { path: '/etc/ssl/private/ssl-cert-snakeoil.key', why: 'a private key' },
      { path: '/usr/lib/dbus/machine-id', why: 'the machine id' },
      { path: '/etc/ssl/certs/ssl-cert-snakeoil.pem', why: 'the certificate of /etc/ssl/private/ssl-cert-snakeoil.key' },
    ]);
    expect(r.dropped.sort((a, b) => a.path.localeCompare(b.path))).toEqual([
      { path: '/etc/ssl/certs/3bd5c4d0.0', why: 'a link to the certificate of /etc/ssl/private/ssl-cert-snakeoil.key' },
      { path: '/etc/ssl/certs/deadbeef.0', why: 'a link to the certificate of /etc/ssl/private/ssl-cert-snakeoil.key' },
    ]);
    expect(left(upper)).toEqual(['etc/ssh/sshd_config', 'etc/ssl/certs/12345678.0', 'etc/ssl/certs/ca.pem']);
    expect(r.changed).toBe(3);
  });

  test.skipIf(!asRoot)('keeps the whiteouts of files the scripts deleted: the commit step deletes those paths', () => {
    tree(lower, { 'share/fx/obsolete': 'old\n', 'etc/fx.conf': 'old\n' });
    whiteout(upper, 'share/fx/obsolete');
    whiteout(upper, 'etc/fx.conf');
    const r = pruneUsrLayer(upper, lower, DATABASE, new Set());
    expect(r.dropped).toEqual([]);
    expect(left(upper)).toEqual(['etc/fx.conf', 'share/fx/obsolete']);
    expect(r.changed).toBe(2);
  });
});

describe('varState', () => {
  // Names for the owner of the files the test makes (whoever runs it).
  const uid = process.getuid!();
  const gid = process.getgid!();
  const accounts = accountsOf(`fx-daemon:x:${uid}:${gid}::/nonexistent:/usr/sbin/nologin\n`, `fx-group:x:${gid}:\n`);
  const owned = { user: 'fx-daemon', group: 'fx-group' };

  test('what the scripts made under /var becomes tmpfiles.d lines, file contents factory copies', () => {
    tree(lower, { 'lib/existing/keep': 'kept\n' });
    tree(upper, {
      'lib/existing/keep': 'kept\n',
      'lib/fx/seed': 'seed data\n',
      'lib/fx/empty': '',
      'lib/fx/current': { link: 'seed' },
    });
    chmodSync(join(upper, 'lib/fx'), 0o750);
    chmodSync(join(upper, 'lib/fx/seed'), 0o640);
    chmodSync(join(upper, 'lib/fx/empty'), 0o600);
    // lib and lib/existing were copied up because something was made in them: same mode, same owner.
    chmodSync(join(lower, 'lib'), lstatSync(join(upper, 'lib')).mode & 0o7777);
    chmodSync(join(lower, 'lib/existing'), lstatSync(join(upper, 'lib/existing')).mode & 0o7777);
    const s = varState(upper, lower, accounts);
    expect(s.lines).toEqual([
      { type: 'd', path: '/var/lib/fx', mode: '0750', ...owned },
      { type: 'L', path: '/var/lib/fx/current', argument: 'seed' },
      { type: 'f', path: '/var/lib/fx/empty', mode: '0600', ...owned },
      { type: 'C', path: '/var/lib/fx/seed', argument: '/usr/share/factory/var/lib/fx/seed', mode: '0640', ...owned },
    ]);
    expect([...s.factory]).toEqual([['usr/share/factory/var/lib/fx/seed', join(upper, 'lib/fx/seed')]]);
    expect(s.secrets).toEqual([]);
    expect(s.dropped).toEqual([]);
  });

  test('a directory whose mode the scripts changed gets a line of its own; a file they rewrote is carried again', () => {
    tree(lower, { 'lib/fx/state': 'old\n' });
    tree(upper, { 'lib/fx/state': 'new\n' });
    chmodSync(join(lower, 'lib'), 0o755);
    chmodSync(join(upper, 'lib'), 0o755);
    chmodSync(join(lower, 'lib/fx'), 0o755);
    chmodSync(join(upper, 'lib/fx'), 0o2775);
    chmodSync(join(upper, 'lib/fx/state'), 0o644);
    expect(varState(upper, lower, accounts).lines).toEqual([
      { type: 'd', path: '/var/lib/fx', mode: '2775', ...owned },
      { type: 'C', path: '/var/lib/fx/state', argument: '/usr/share/factory/var/lib/fx/state', mode: '0644', ...owned },
    ]);
  });

  test('caches, temporary files and log files are left to the host, except the man-db index; log directories stay', () => {
    tree(upper, {
      'cache/apt/pkgcache.bin': 'cache\n',
      'cache/man/index.db': 'whatis\n',
      'tmp/scratch': 'tmp\n',
      'log/fx/install.log': 'log\n',
      'log/fx.log': 'log\n',
    });
    chmodSync(join(upper, 'cache/man'), 0o2755);
    chmodSync(join(upper, 'cache/man/index.db'), 0o644);
    chmodSync(join(upper, 'log/fx'), 0o2750);
    for (const d of ['cache', 'log', 'tmp']) {
      mkdirSync(join(lower, d));
      chmodSync(join(lower, d), lstatSync(join(upper, d)).mode & 0o7777);
    }
    const s = varState(upper, lower, accounts);
    expect(s.dropped).toEqual([
      { path: '/var/cache/apt', why: 'regenerated by the host' },
      { path: '/var/log/fx/install.log', why: 'regenerated by the host' },
      { path: '/var/log/fx.log', why: 'regenerated by the host' },
      { path: '/var/tmp/scratch', why: 'regenerated by the host' },
    ]);
    expect(s.lines).toEqual([
      { type: 'd', path: '/var/cache/man', mode: '2755', ...owned },
      { type: 'C', path: '/var/cache/man/index.db', argument: '/usr/share/factory/var/cache/man/index.db', mode: '0644', ...owned },
      { type: 'd', path: '/var/log/fx', mode: '2750', ...owned },
    ]);
    expect([...s.factory.keys()]).toEqual(['usr/share/factory/var/cache/man/index.db']);
  });

  test('secrets under /var are named and not carried; what is neither file, directory nor link is dropped', () => {
    tree(upper, { 'lib/systemd/random-seed': 'random\n', 'lib/fx/data': 'x\n' });
    execFileSync('mkfifo', [join(upper, 'lib/fx/fifo')]);
    chmodSync(join(upper, 'lib/fx/data'), 0o644);
    const s = varState(upper, lower, accounts);
    expect(s.secrets).toEqual([{ path: '/var/lib/systemd/random-seed', why: 'a random seed' }]);
    expect(s.dropped).toEqual([{ path: '/var/lib/fx/fifo', why: 'not a file, directory or link' }]);
    expect(s.lines.map((l) => `${l.type} ${l.path}`)).toEqual(['d /var/lib', 'd /var/lib/fx', 'C /var/lib/fx/data', 'd /var/lib/systemd']);
    expect([...s.factory.keys()]).toEqual(['usr/share/factory/var/lib/fx/data']);
  });

  test.skipIf(!asRoot)('what the scripts deleted from /var is named, and not carried: the host keeps its own /var', () => {
    tree(lower, { 'lib/fx/old/state': 'old\n', 'lib/fx/gone': 'old\n' });
    whiteout(upper, 'lib/fx/old');
    whiteout(upper, 'lib/fx/gone');
    for (const d of ['lib', 'lib/fx']) chmodSync(join(lower, d), lstatSync(join(upper, d)).mode & 0o7777);
    const s = varState(upper, lower, accounts);
    expect(s.dropped).toEqual([
      { path: '/var/lib/fx/gone', why: 'deleted from /var: not carried' },
      { path: '/var/lib/fx/old', why: 'deleted from /var: not carried' },
    ]);
    expect(s.lines).toEqual([]);
  });
});
