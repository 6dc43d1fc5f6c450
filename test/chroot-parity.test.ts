// Parity with apt-get (issue text: "the /var and /etc that deblayer's scripts
// stage produces must equal what `apt-get install` produces in a chroot of the
// same base, path by path, with every difference explained").
//
// Real services whose maintainer scripts do real work, from the Debian archive:
// mariadb-server (its postinst runs mariadb-install-db as the mysql user: a
// whole data directory), postgresql (pg_createcluster: a cluster in /var/lib,
// its configuration in /etc, the snakeoil certificate), redis-server (a user,
// a setgid log directory) and openssh-server (host keys, ucf, dbus). The same
// packages, at the same versions and from the same .deb files, are
//   - layered by deblayer onto the real debootstrapped base in an offline
//     sysroot, and that deployment brought up as a boot would (a copy of it,
//     where systemd-sysusers, systemd-tmpfiles and the units deblayer ships
//     for the secrets it leaves out make the accounts, /var and host keys:
//     an OSTree commit has no /var, and no secret);
//   - installed by `apt-get install` in a chroot of the same base tarball.
// Then each side is compared with its own state before the install, which
// gives the paths under /etc and /var the install made or changed on either
// side; those must be equal between the two sides (type, mode, owner and group
// by name, link target, content), and every account the install added too.
// What differs must be one of EXPLAINED, exactly: a new difference fails, and
// so does an explained one that is gone.
//
// Needs deb.debian.org (resolution, downloads); the chroot itself installs
// offline from the lists and .deb files deblayer used.

import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { archiveFileName } from '../src/apt/plan.js';
import { deblayer } from './helpers/cli.js';
import { extractBootableBase, makeSysroot, type TestSysroot } from './helpers/sysroot.js';

const realBase = inject('realBase');
const PACKAGES = ['mariadb-server', 'postgresql', 'redis-server', 'openssh-server'];
const ENV = { LC_ALL: 'C', PATH: '/usr/sbin:/usr/bin:/sbin:/bin', DEBIAN_FRONTEND: 'noninteractive' };

// Not compared path by path, and why:
const LEFT_OUT = [
  // deblayer carries accounts as sysusers.d lines (ostree's /etc merge keeps the
  // host's own files); the accounts themselves are compared, by name, below;
  /^\/etc\/(passwd|group|shadow|gshadow|subuid|subgid)-?$|^\/etc\/\.pwd\.lock$/,
  // host identity: the base import empties /etc/machine-id, systemd makes it at
  // first boot, and dbus's tmpfiles.d line links /var/lib/dbus/machine-id to it
  // (in the chroot, dbus's postinst copies the build host's);
  /^\/etc\/machine-id$|^\/var\/lib\/dbus\/machine-id$/,
  // package manager state and caches: deblayer keeps the dpkg database in
  // usr/lib/sysimage/dpkg and runs apt outside the tree; the host regenerates caches.
  /^\/var\/lib\/(dpkg|apt)(\/|$)|^\/var\/cache(\/|$)|^\/var\/tmp\//,
];
// Log files are the host's own too; directories under /var/log are compared, for their owners.
const leftOut = (path: string, isDir: boolean) => LEFT_OUT.some((re) => re.test(path)) || (/^\/var\/log\/./.test(path) && !isDir);

// Files whose contents differ from one run to the next even on one side, so
// only their existence, mode and owner are compared:
const CONTENTS_VARY = [
  // secrets, made anew by every install; deblayer leaves them out of the commit
  // and its units make each host's own at boot (run by bringUp below);
  /^\/etc\/ssh\/ssh_host_[^/]*key(\.pub)?$/,
  /^\/etc\/ssl\/(private\/ssl-cert-snakeoil\.key|certs\/ssl-cert-snakeoil\.pem)$/,
  // MariaDB's table definitions (.frm) carry their creation time; Aria (.MAI,
  // .MAD, aria_log*) and InnoDB files (ibdata, redo log, .ibd) carry log
  // sequence numbers, timestamps and UUIDs;
  /^\/var\/lib\/mysql\/.*\.(frm|MA[ID]|ibd|CSM)$/,
  /^\/var\/lib\/mysql\/(aria_log\.\d+|aria_log_control|ib_logfile\d+|ibdata\d+|ib_buffer_pool|undo\d+)$/,
  // a PostgreSQL cluster's system identifier is its creation time (pg_control,
  // every WAL segment's header, the catalogs' pages); the statistics file has timestamps.
  /^\/var\/lib\/postgresql\/\d+\/main\/(global\/pg_control|pg_wal\/[0-9A-F]{24}|base\/\d+\/\d+|global\/\d+|pg_xact\/\d+|pg_multixact\/.*|pg_stat\/pgstat\.stat)$/,
];

// The differences there are, and why. Key: a path, or "user NAME" / "group NAME".
const EXPLAINED: Record<string, { chroot: string; deblayer: string | RegExp; why: string }> = {
  '/etc/sysusers.d': {
    chroot: 'missing',
    deblayer: 'dir 0755 root:root',
    why: "the directory of the override below",
  },
  '/etc/sysusers.d/dbus.conf': {
    chroot: 'missing',
    // Its text is deblayer's own: only what it is, is checked here.
    deblayer: /^file 0644 root:root /,
    // sysusers.ts: deblayer pins messagebus's id in 00-deblayer.conf; dbus's own
    // line for it would be a conflicting second one, so /etc overrides dbus.conf without it.
    why: "dbus's sysusers.d file without the messagebus line, whose id deblayer pins",
  },
};

interface Node {
  kind: 'dir' | 'file' | 'symlink' | 'other';
  mode: string;
  owner: string;
  target?: string;
  sha256?: string;
}

interface Accounts {
  /** name -> passwd fields after the name (x aside). */
  users: Map<string, string[]>;
  groups: Map<string, string[]>;
  userName(uid: number): string;
  groupName(gid: number): string;
}

function readAccounts(root: string): Accounts {
  const table = (file: string) => {
    const m = new Map<string, string[]>();
    for (const line of readFileSync(join(root, 'etc', file), 'utf8').split('\n')) {
      const f = line.split(':');
      if (f.length >= 3 && f[0] !== '') m.set(f[0]!, f.slice(2));
    }
    return m;
  };
  const users = table('passwd');
  const groups = table('group');
  const byId = (m: Map<string, string[]>) => new Map([...m].map(([name, f]) => [Number(f[0]), name] as const).reverse());
  const uids = byId(users);
  const gids = byId(groups);
  return { users, groups, userName: (id) => uids.get(id) ?? `#${id}`, groupName: (id) => gids.get(id) ?? `#${id}` };
}

/** /etc and /var of ROOT, owners by name from ROOT's own passwd and group. */
function snapshot(root: string): Map<string, Node> {
  const accounts = readAccounts(root);
  const nodes = new Map<string, Node>();
  const walk = (path: string) => {
    const st = lstatSync(join(root, path));
    if (leftOut(path, st.isDirectory())) return;
    const node: Node = {
      kind: st.isDirectory() ? 'dir' : st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : 'other',
      mode: (st.mode & 0o7777).toString(8).padStart(4, '0'),
      owner: `${accounts.userName(st.uid)}:${accounts.groupName(st.gid)}`,
    };
    if (node.kind === 'symlink') node.target = readlinkSync(join(root, path));
    if (node.kind === 'file' && !CONTENTS_VARY.some((re) => re.test(path))) node.sha256 = createHash('sha256').update(readFileSync(join(root, path))).digest('hex');
    nodes.set(path, node);
    if (node.kind === 'dir') for (const name of readdirSync(join(root, path)).sort()) walk(`${path}/${name}`);
  };
  walk('/etc');
  walk('/var');
  return nodes;
}

const describeNode = (n: Node | undefined) =>
  n === undefined ? 'missing' : `${n.kind} ${n.kind === 'symlink' ? `-> ${n.target}` : `${n.mode} ${n.owner}`}${n.sha256 ? ` sha256:${n.sha256.slice(0, 12)}` : ''}`;

/** A user as both sides can be compared: ids by name (group), GECOS, home, shell. */
function describeUser(a: Accounts, name: string): string {
  const f = a.users.get(name);
  if (!f) return 'missing';
  const [uid = '', gid = '', gecos = '', home = '', shell = ''] = f;
  return `${uid}:${a.groupName(Number(gid))} ${gecos} ${home} ${shell}`;
}
const describeGroup = (a: Accounts, name: string) => {
  const f = a.groups.get(name);
  return f ? `${f[0]} members:${f[1] ?? ''}` : 'missing';
};

interface Side {
  before: Map<string, Node>;
  after: Map<string, Node>;
  accountsBefore: Accounts;
  accountsAfter: Accounts;
}

let work: string;
let sysroot: TestSysroot | undefined;
const mounts: string[] = [];
let plan: { name: string; version: string; architecture: string }[];
let chrootSide: Side;
let deblayerSide: Side;
let chrootInstalled: string[];
let deblayerInstalled: string[];
let bootLog: { sysusers: { exitCode: number; stderr: string }; tmpfiles: { exitCode: number; stderr: string } };

async function mountProc(root: string): Promise<void> {
  await execa('mount', ['-t', 'proc', 'proc', join(root, 'proc')]);
  mounts.push(join(root, 'proc'));
}

async function umountAll(): Promise<void> {
  while (mounts.length) await execa('umount', ['--lazy', mounts.pop()!], { reject: false });
}

/**
 * Runs ARGS chrooted in ROOT with the hostname of deblayer's sandbox
 * (localhost), so that what is named after the host (the snakeoil
 * certificate's subject, hence its hash link) is comparable.
 */
const inChroot = (root: string, args: string[]) =>
  execa('unshare', ['--uts', 'sh', '-c', 'hostname localhost && exec chroot "$@"', 'sh', root, ...args], { reject: false, env: ENV });

/**
 * A copy of DEPLOYMENT with the accounts, /var and host secrets a boot makes
 * (its stateroot's /var is empty offline, as on a new host).
 */
async function bringUp(deployment: string, root: string) {
  await execa('cp', ['-a', deployment, root]);
  await mountProc(root);
  // A deployment's /dev is empty: the kernel's devtmpfs is there at boot.
  await execa('mount', ['--bind', '/dev', join(root, 'dev')]);
  mounts.push(join(root, 'dev'));
  // Users first, so that tmpfiles resolves the owners its lines name.
  const sysusers = await inChroot(root, ['systemd-sysusers']);
  const tmpfiles = await inChroot(root, ['systemd-tmpfiles', '--create', '--prefix=/var']);
  // The units deblayer ships to make the secrets it leaves out (SSH host keys, the snakeoil pair).
  const units = join(root, 'usr/lib/systemd/system');
  for (const unit of readdirSync(units).filter((n) => /^deblayer-.*\.service$/.test(n))) {
    for (const m of readFileSync(join(units, unit), 'utf8').matchAll(/^ExecStart=(.+)$/gm)) {
      const r = await inChroot(root, ['sh', '-c', m[1]!]);
      expect(r.exitCode, `${unit}: ${r.stderr}`).toBe(0);
    }
  }
  await umountAll();
  return { sysusers: { exitCode: sysusers.exitCode ?? -1, stderr: sysusers.stderr }, tmpfiles: { exitCode: tmpfiles.exitCode ?? -1, stderr: tmpfiles.stderr } };
}

const dpkgList = async (root: string, admindir: string) =>
  (await execa('dpkg-query', [`--admindir=${join(root, admindir)}`, '-W', '-f', '${db:Status-Abbrev} ${Package}=${Version}\n'])).stdout
    .split('\n')
    .filter((l) => l.startsWith('ii '))
    .map((l) => l.slice(4));

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'deblayer-parity-'));
  const start = Date.now();
  const lap = (what: string) => console.log(`${what}: ${((Date.now() - start) / 1000).toFixed(1)} s`);
  const cache = join(work, 'cache');
  const repo = join(work, 'repo');

  // deblayer: the base deployed in an offline sysroot, then the packages layered on it.
  const root = await extractBootableBase(realBase, join(work, 'bootable'));
  const imported = await deblayer(['--repo', repo, 'base', 'import', root, '-b', 'debian/12']);
  expect(imported.exitCode, imported.stderr).toBe(0);
  rmSync(root, { recursive: true, force: true });
  sysroot = await makeSysroot(join(work, 'sysroot'), repo, 'debian', '4g');
  await sysroot.deploy('debian/12');
  rmSync(repo, { recursive: true, force: true });
  const deployDir = join(sysroot.path, 'ostree/deploy/debian/deploy');
  const baseDeployment = join(deployDir, readdirSync(deployDir).find((n) => !n.endsWith('.origin'))!);
  const r = await deblayer(['--sysroot', sysroot.path, '--cache-dir', cache, '--json', 'install', ...PACKAGES]);
  expect(r.exitCode, r.stderr).toBe(0);
  const installed = JSON.parse(r.stdout);
  plan = installed.packages;
  lap(`deblayer install of ${plan.length} packages`);
  const before = join(work, 'base-booted');
  await bringUp(baseDeployment, before);
  const after = join(work, 'booted');
  bootLog = await bringUp(installed.deployed.path as string, after);
  await sysroot.close();
  sysroot = undefined;
  const baseDpkg = new Set(await dpkgList(before, 'usr/lib/sysimage/dpkg'));
  deblayerInstalled = (await dpkgList(after, 'usr/lib/sysimage/dpkg')).filter((p) => !baseDpkg.has(p));
  deblayerSide = { before: snapshot(before), after: snapshot(after), accountsBefore: readAccounts(before), accountsAfter: readAccounts(after) };
  rmSync(before, { recursive: true, force: true });
  lap('deployments brought up');

  // apt-get: the same base tarball, the same package lists and .deb files, the same versions.
  const chroot = join(work, 'chroot');
  mkdirSync(chroot);
  await execa('tar', ['--numeric-owner', '-xpf', realBase, '-C', chroot]);
  const chrootBefore = snapshot(chroot);
  const chrootAccountsBefore = readAccounts(chroot);
  const chrootDpkg = new Set(await dpkgList(chroot, 'var/lib/dpkg'));
  const sources = join(cache, 'sources');
  const lists = readdirSync(sources).map((d) => join(sources, d, 'lists')).filter(existsSync);
  expect(lists).toHaveLength(1);
  for (const f of readdirSync(lists[0]!).filter((n) => /_(InRelease|Release|Release\.gpg|Packages)$/.test(n))) {
    copyFileSync(join(lists[0]!, f), join(chroot, 'var/lib/apt/lists', f));
  }
  for (const p of plan) copyFileSync(join(cache, 'archives', archiveFileName(p)), join(chroot, 'var/cache/apt/archives', archiveFileName(p)));
  // As deblayer's sandbox does: no service is started.
  writeFileSync(join(chroot, 'usr/sbin/policy-rc.d'), '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  await mountProc(chroot);
  // A host's /dev/shm: initdb picks POSIX shared memory when it works (else
  // System V, in postgresql.conf), and deblayer's sandbox has one.
  mkdirSync(join(chroot, 'dev/shm'), { recursive: true });
  await execa('mount', ['-t', 'tmpfs', '-o', 'mode=1777', 'tmpfs', join(chroot, 'dev/shm')]);
  mounts.push(join(chroot, 'dev/shm'));
  const apt = await inChroot(chroot, ['apt-get', 'install', '-y', '--no-download', '-o', 'Dpkg::Use-Pty=0', ...plan.map((p) => `${p.name}=${p.version}`)]);
  await umountAll();
  expect(apt.exitCode, apt.stdout + apt.stderr).toBe(0);
  rmSync(join(chroot, 'usr/sbin/policy-rc.d'));
  chrootInstalled = (await dpkgList(chroot, 'var/lib/dpkg')).filter((p) => !chrootDpkg.has(p));
  chrootSide = { before: chrootBefore, after: snapshot(chroot), accountsBefore: chrootAccountsBefore, accountsAfter: readAccounts(chroot) };
  lap('apt-get install in the chroot');
}, 900_000);

afterAll(async () => {
  await umountAll();
  await sysroot?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('deblayer and apt-get in a chroot, from the same base', () => {
  test('the booted copy came up cleanly: sysusers and tmpfiles apply the layer without error', () => {
    expect(bootLog.sysusers.exitCode, bootLog.sysusers.stderr).toBe(0);
    expect(bootLog.tmpfiles.stderr).not.toMatch(/unsafe path transition|deblayer-/);
    expect(bootLog.tmpfiles.exitCode, bootLog.tmpfiles.stderr).toBe(0);
  });

  test('/etc, /var and the accounts are the same, but for the explained differences', () => {
    const sameNode = (a: Node | undefined, b: Node | undefined) => describeNode(a) === describeNode(b);
    const scope = new Set<string>();
    for (const side of [chrootSide, deblayerSide]) {
      for (const path of new Set([...side.before.keys(), ...side.after.keys()])) {
        if (!sameNode(side.before.get(path), side.after.get(path))) scope.add(path);
      }
    }
    // The services' own places are among what the install made, on one side at least.
    for (const p of ['/etc/mysql/my.cnf', '/etc/postgresql', '/etc/redis/redis.conf', '/etc/ssh/sshd_config', '/var/lib/mysql/mysql', '/var/lib/postgresql', '/var/lib/redis', '/var/log/redis']) {
      expect(scope, p).toContain(p);
    }
    const differences: Record<string, { chroot: string; deblayer: string }> = {};
    for (const path of [...scope].sort()) {
      const chroot = describeNode(chrootSide.after.get(path));
      const ours = describeNode(deblayerSide.after.get(path));
      if (chroot !== ours) differences[path] = { chroot, deblayer: ours };
    }
    // Accounts: every user and group that either side's install added.
    const added = (side: Side, kind: 'users' | 'groups') => [...side.accountsAfter[kind].keys()].filter((n) => !side.accountsBefore[kind].has(n));
    for (const name of new Set([...added(chrootSide, 'users'), ...added(deblayerSide, 'users')])) {
      const chroot = describeUser(chrootSide.accountsAfter, name);
      const ours = describeUser(deblayerSide.accountsAfter, name);
      if (chroot !== ours) differences[`user ${name}`] = { chroot, deblayer: ours };
    }
    for (const name of new Set([...added(chrootSide, 'groups'), ...added(deblayerSide, 'groups')])) {
      const chroot = describeGroup(chrootSide.accountsAfter, name);
      const ours = describeGroup(deblayerSide.accountsAfter, name);
      if (chroot !== ours) differences[`group ${name}`] = { chroot, deblayer: ours };
    }
    expect(added(chrootSide, 'users').sort()).toEqual(['messagebus', 'mysql', 'postgres', 'redis', 'sshd']);
    console.log(`compared ${scope.size} paths under /etc and /var, ${[...scope].filter((p) => chrootSide.after.get(p)?.sha256).length} files by content`);
    const expected = Object.fromEntries(
      Object.entries(EXPLAINED).map(([k, { chroot, deblayer }]) => [k, { chroot, deblayer: typeof deblayer === 'string' ? deblayer : expect.stringMatching(deblayer) }]),
    );
    expect(differences).toEqual(expected);
  });

  test('both sides installed the same packages at the same versions', () => {
    const planned = plan.map((p) => `${p.name}=${p.version}`).sort();
    expect(deblayerInstalled.sort()).toEqual(planned);
    expect(chrootInstalled.sort()).toEqual(planned);
  });
});
