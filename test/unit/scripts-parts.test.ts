// The pure parts of the scripts stage, on exact inputs: accounts to sysusers.d
// lines, trigger interests and activations, dpkg's status-fd output, the
// sandbox's command line and the secrets list.

import { describe, expect, it } from 'vitest';
import type { PackageRecord } from '../../src/vocabulary/packages.js';
import { bwrapArgs } from '../../src/exec/bwrap.js';
import { parseSyslog } from '../../src/exec/syslog-sink.js';
import { DpkgOutput } from '../../src/scripts/dpkg-output.js';
import { secretKind } from '../../src/scripts/secrets.js';
import { accountsOfLines, accountsOfSysusers, overridesFor, seedAccounts, sysusersLines } from '../../src/scripts/sysusers.js';
import type { KnownAccount } from '../../src/base/accounts.js';
import { activations, fileTriggerPaths, interestLines, needsConfiguring } from '../../src/scripts/triggers.js';

function record(name: string, members: Record<string, string>, files: string[] = [], multiArchSame = false): PackageRecord {
  return {
    package: name,
    version: '1.0',
    architecture: 'amd64',
    files,
    md5sums: {},
    conffiles: [],
    tmpfiles: [],
    controlText: `Package: ${name}\n`,
    members: Object.entries(members).map(([n, text]) => ({ name: n, mode: 0o755, data: Buffer.from(text).toString('base64') })),
    multiArchSame,
    conffileMd5: {},
  };
}

describe('sysusers.d lines from the accounts before and after the scripts', () => {
  const before = { passwd: 'root:x:0:0:root:/root:/bin/bash\nwww-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n', group: 'root:x:0:\nadm:x:4:\nnogroup:x:65534:\n' };
  it('new groups, users (with their group by name) and members; the host’s own accounts give no line', () => {
    const after = {
      passwd: `${before.passwd}sshd:x:100:65534::/run/sshd:/usr/sbin/nologin\nfx:x:101:102:Fx Daemon,,,:/var/lib/fx:/bin/false\n`,
      group: 'root:x:0:\nadm:x:4:fx\nnogroup:x:65534:\n_ssh:x:101:\nfx:x:102:\n',
    };
    expect(sysusersLines(before, after)).toEqual([
      'g _ssh 101',
      'g fx 102',
      'u sshd 100:nogroup - /run/sshd /usr/sbin/nologin',
      // The whole GECOS field, as adduser wrote it (what apt-get install gives).
      'u fx 101:fx "Fx Daemon,,," /var/lib/fx /bin/false',
      'm fx adm',
    ]);
  });
  it('keeps the earlier lines of accounts that still exist (the host has them now), not those gone', () => {
    const after = { passwd: `${before.passwd}sshd:x:100:65534::/run/sshd:/usr/sbin/nologin\n`, group: before.group };
    const previous = '# comment\nu sshd 100:nogroup - /run/sshd /usr/sbin/nologin\ng gone 120\n';
    expect(sysusersLines({ ...before, passwd: after.passwd }, after, previous)).toEqual(['u sshd 100:nogroup - /run/sshd /usr/sbin/nologin']);
  });
  it('keeps a line for every account of the sysroot\'s record, even one the host has already', () => {
    const after = { passwd: `${before.passwd}redis:x:101:103::/var/lib/redis:/usr/sbin/nologin\n`, group: `${before.group}redis:x:103:\n` };
    expect(sysusersLines(after, after, '', new Set(['u redis', 'g redis']))).toEqual(['g redis 103', 'u redis 101:redis - /var/lib/redis /usr/sbin/nologin']);
  });
});

describe('one id an account, for the life of the sysroot', () => {
  const host = {
    passwd: 'root:x:0:0:root:/root:/bin/bash\nwww-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n',
    group: 'root:x:0:\nwww-data:x:33:\nnogroup:x:65534:\n',
    shadow: 'root:*:19000:0:99999:7:::\n',
    gshadow: 'root:*::\n',
  };
  const known: KnownAccount[] = [
    { kind: 'group', name: 'redis', id: 103, entry: 'redis:x:103:' },
    { kind: 'user', name: 'redis', id: 101, entry: 'redis:x:101:103::/var/lib/redis:/usr/sbin/nologin' },
    // Its id is the host's www-data's: the scripts choose anew.
    { kind: 'group', name: 'clash', id: 33, entry: 'clash:x:33:' },
    // Its group (130) is neither the host's nor recorded.
    { kind: 'user', name: 'orphan', id: 120, entry: 'orphan:x:120:130::/:/bin/false' },
  ];
  it('seeds the recorded accounts the host lacks, with their ids, into every account file', () => {
    const { files, seeded } = seedAccounts(host, known);
    expect(seeded).toEqual(['g redis', 'u redis']);
    expect(files.passwd).toBe(`${host.passwd}redis:x:101:103::/var/lib/redis:/usr/sbin/nologin\n`);
    expect(files.group).toBe(`${host.group}redis:x:103:\n`);
    expect(files.shadow).toBe(`${host.shadow}redis:!*:::::::\n`);
    expect(files.gshadow).toBe(`${host.gshadow}redis:!::\n`);
    // What the host has already is not seeded again.
    expect(seedAccounts(files, known).seeded).toEqual([]);
  });
  it('reads the accounts back from the lines an earlier deblayer wrote (a sysroot without a record)', () => {
    const lines = 'g messagebus 101\ng redis 103\nu messagebus 100:messagebus - /nonexistent /usr/sbin/nologin\nu postgres 102:postgres "PostgreSQL administrator" /var/lib/postgresql /bin/bash\nm postgres ssl-cert\n';
    expect(accountsOfSysusers(lines, 'postgres:x:104:\n')).toEqual([
      { kind: 'group', name: 'messagebus', id: 101, entry: 'messagebus:x:101:' },
      { kind: 'group', name: 'redis', id: 103, entry: 'redis:x:103:' },
      { kind: 'user', name: 'messagebus', id: 100, entry: 'messagebus:x:100:101::/nonexistent:/usr/sbin/nologin' },
      { kind: 'user', name: 'postgres', id: 102, entry: 'postgres:x:102:104:PostgreSQL administrator:/var/lib/postgresql:/bin/bash' },
    ]);
  });
  it('gives each u and g line its entry as the scripts left it', () => {
    const after = { passwd: 'redis:x:101:103::/var/lib/redis:/usr/sbin/nologin\n', group: 'redis:x:103:\n' };
    expect(accountsOfLines(['g redis 103', 'u redis 101:redis - /var/lib/redis /usr/sbin/nologin', 'm redis adm'], after)).toEqual([
      { kind: 'group', name: 'redis', id: 103, entry: 'redis:x:103:' },
      { kind: 'user', name: 'redis', id: 101, entry: 'redis:x:101:103::/var/lib/redis:/usr/sbin/nologin' },
    ]);
  });
  it("overrides a package's sysusers.d file that declares a pinned account, and leaves the others alone", () => {
    const files = new Map([
      ['dbus.conf', '# sysusers.d snippet\nu messagebus - "System Message Bus"\n'],
      ['other.conf', 'u other - "Other"\ng messagebus -\n'],
      ['basic.conf', 'g adm 4 -\n'],
    ]);
    const out = overridesFor(files, ['g messagebus 101', 'u messagebus 100:messagebus - /nonexistent /usr/sbin/nologin', 'm messagebus adm']);
    expect([...out.keys()]).toEqual(['dbus.conf', 'other.conf']);
    expect(out.get('dbus.conf')).toMatch(/^# u messagebus - "System Message Bus" +\(deblayer: pinned in \/usr\/lib\/sysusers\.d\/00-deblayer\.conf\)$/m);
    expect(out.get('dbus.conf')).not.toMatch(/^u /m);
    expect(out.get('other.conf')).toMatch(/^u other - "Other"$/m);
    expect(out.get('other.conf')).toMatch(/^# g messagebus -/m);
  });
});

describe('triggers', () => {
  const watcher = record('fx-watch', { triggers: '# c\ninterest-noawait /usr/share/fx\ninterest fx-named\n', postinst: '#!/bin/sh\n' });
  const data = record('libfx1', { triggers: 'activate-noawait ldconfig\n' }, ['/.', '/usr', '/usr/share', '/usr/share/fx', '/usr/share/fx/a'], true);
  it('registers interests as dpkg writes them (File lines, named files; :arch for Multi-Arch: same)', () => {
    const lines = interestLines([watcher, data]);
    expect(lines.file).toEqual(['/usr/share/fx fx-watch/noawait']);
    expect([...lines.named]).toEqual([['fx-named', ['fx-watch']]]);
  });
  it('activates explicit triggers and the file triggers a package’s paths fall under', () => {
    const paths = fileTriggerPaths('/usr/share/fx fx-watch/noawait\n/usr/share/fxx other\n/usr/lib/x86_64-linux-gnu/gdk-pixbuf-2.0/2.10.0/loaders libgdk\n');
    expect(activations([data], paths)).toEqual([
      { package: 'libfx1:amd64', trigger: 'ldconfig' },
      { package: 'libfx1:amd64', trigger: '/usr/share/fx' },
    ]);
  });
  it('configuring is needed for scripts, triggers, or files under a base file trigger; not for plain packages', () => {
    const plain = record('plain', {}, ['/usr/share/doc/plain/x']);
    expect(needsConfiguring([plain], [])).toBe(false);
    expect(needsConfiguring([plain], ['/usr/share/doc'])).toBe(true);
    expect(needsConfiguring([watcher], [])).toBe(true);
    expect(needsConfiguring([record('s', { postinst: 'x' })], [], ['s'])).toBe(false);
  });
});

describe("dpkg's output", () => {
  it('is split by package, and the first error names the package, script, status and the lines before it', () => {
    const out = new DpkgOutput();
    for (const l of [
      'processing: configure: fx-ok:amd64',
      'Setting up fx-ok (1.0) ...',
      'status: fx-ok:amd64: installed',
      'processing: configure: fx-fail',
      'Setting up fx-fail (1.0) ...',
      'about to fail',
      'cannot frobnicate',
      'dpkg: error processing package fx-fail (--configure):',
      ' installed fx-fail package post-installation script subprocess returned error exit status 7',
      'status: fx-fail : error : installed fx-fail package post-installation script subprocess returned error exit status 7',
      'Errors were encountered while processing:',
      ' fx-fail',
    ]) {
      out.line(l);
    }
    expect(out.sections.filter((s) => s.lines.length > 0).map((s) => [s.package, s.step])).toEqual([
      ['fx-ok', 'configure'],
      ['fx-fail', 'configure'],
    ]);
    expect(out.failures).toEqual([
      {
        package: 'fx-fail',
        script: 'postinst',
        status: 7,
        message: 'installed fx-fail package post-installation script subprocess returned error exit status 7',
        lastLines: 'about to fail / cannot frobnicate',
      },
    ]);
  });
});

describe("dpkg's output, as buffered", () => {
  it('goes to the package its "Setting up" line names, when that line arrives after the next status line', () => {
    // What dpkg --configure --pending gave for libtirpc-common (no postinst)
    // then libkeyutils1: stdout is flushed only when a script runs.
    const out = new DpkgOutput();
    for (const l of [
      'processing: configure: libtirpc-common:all',
      'status: libtirpc-common:all: installed',
      'processing: configure: libkeyutils1:amd64',
      'Setting up libtirpc-common (1.3.3+ds-1) ...',
      'Setting up libkeyutils1:amd64 (1.6.3-2) ...',
      'keyutils says hello',
      'status: libkeyutils1:amd64: installed',
      'processing: trigproc: man-db:amd64',
      'Processing triggers for man-db (2.11.2-2) ...',
    ]) {
      out.line(l);
    }
    expect(out.sections.filter((s) => s.lines.length > 0).map((s) => [s.package, s.step, s.lines])).toEqual([
      ['libtirpc-common', 'configure', ['Setting up libtirpc-common (1.3.3+ds-1) ...']],
      ['libkeyutils1', 'configure', ['Setting up libkeyutils1:amd64 (1.6.3-2) ...', 'keyutils says hello']],
      ['man-db', 'trigproc', ['Processing triggers for man-db (2.11.2-2) ...']],
    ]);
  });
});

describe('the sandbox', () => {
  it('binds the view, drops the network and every capability but those listed, and clears the environment', () => {
    const args = bwrapArgs({ usr: '/t/usr', var: '/t/var', env: { X: '1' } }, ['dpkg', '--configure', '--pending']);
    const joined = args.join(' ');
    expect(joined).toContain('--bind /t/usr /usr --bind /t/usr/etc /etc --bind /t/var /var');
    for (const o of ['--unshare-net', '--unshare-pid', '--die-with-parent', '--new-session', '--clearenv', '--tmpfs /run', '--tmpfs /tmp']) expect(joined).toContain(o);
    expect(joined).toContain('--cap-drop ALL');
    expect(joined).toContain('--cap-add cap_setuid --cap-add cap_setpcap');
    expect(joined).toContain('--setenv SYSTEMD_OFFLINE 1');
    expect(joined).toContain('--setenv DEBIAN_FRONTEND noninteractive');
    expect(joined).toContain('--setenv X 1');
    expect(args.slice(-4)).toEqual(['--', 'dpkg', '--configure', '--pending']);
  });
  it('knows secrets and host identity', () => {
    expect(secretKind('etc/ssh/ssh_host_ed25519_key')).toBe('an SSH host key');
    expect(secretKind('etc/ssh/ssh_host_rsa_key.pub')).toBe('an SSH host key');
    expect(secretKind('etc/ssl/private/ssl-cert-snakeoil.key')).toBe('a private key');
    expect(secretKind('lib/systemd/random-seed')).toBe('a random seed');
    expect(secretKind('etc/ssh/sshd_config')).toBeUndefined();
  });
});

describe("what scripts log to the sandbox's /dev/log", () => {
  it('is read as logger(1) and syslog(3) send it, severity from the priority', () => {
    expect(parseSyslog('<27>Nov 30 11:13:36 mariadb-server.postinst[812]: Installation of system tables failed!')).toEqual({
      severity: 3,
      tag: 'mariadb-server.postinst',
      text: 'Installation of system tables failed!',
    });
    expect(parseSyslog('<13>Nov  3 01:02:03 root: hello')).toEqual({ severity: 5, tag: 'root', text: 'hello' });
    expect(parseSyslog('<11>1 2026-11-30T11:13:36.1+00:00 localhost fx.postinst 12 - [timeQuality tzKnown="1"] boom')).toEqual({ severity: 3, tag: 'fx.postinst', text: 'boom' });
    expect(parseSyslog('no priority at all')).toEqual({ severity: 6, tag: '', text: 'no priority at all' });
  });
});
