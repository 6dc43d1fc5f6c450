// A real base: a debootstrapped minbase bookworm with systemd-sysv, from the
// Debian archive (test/make-real-base.sh), imported as an OSTree commit. Real
// requests are resolved against it with the archive as source, and every plan
// must be the one `apt-get -s install` gives in a chroot of the same tree.
// Needs deb.debian.org.

import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Plan } from '../src/apt/plan.js';
import { resolvePlan } from '../src/apt/resolve.js';
import { openBaseApt } from '../src/transactions/base-apt.js';
import { deblayer } from './helpers/cli.js';
import { ostree } from './helpers/ostree.js';
import { extractBootableBase, inPrivateMountNamespace, makeSysroot } from './helpers/sysroot.js';
import { snapshotTree, type NodeInfo } from './helpers/tree.js';

const realBase = inject('realBase');
const BRANCH = 'debian/12';

interface BaseInfo {
  commit: string;
  osRelease: Record<string, string>;
  dpkgDatabase: { path: string; foundBy: string };
  architectures: string[];
  packageCount: number;
  packages: { name: string; version: string; architecture: string }[];
}

let work: string;
let repo: string;
let cache: string;
let chroot: string;
let baseInfo: BaseInfo;

/** Fails with the command's output, so a failing setup step says why. */
function ok(r: { exitCode?: number; stdout: unknown; stderr: unknown }, what: string): void {
  if (r.exitCode !== 0) throw new Error(`${what} failed (exit ${r.exitCode}):\n${String(r.stderr)}\n${String(r.stdout)}`);
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'deblayer-realbase-'));
  repo = join(work, 'repo');
  cache = join(work, 'cache');
  chroot = join(work, 'chroot');
  mkdirSync(chroot);
  const [imported, extracted] = await Promise.all([
    deblayer(['--repo', repo, 'base', 'import', realBase, '-b', BRANCH, '--no-kernel']),
    execa('tar', ['--numeric-owner', '-xpf', realBase, '-C', chroot], { reject: false }),
  ]);
  ok(imported, 'deblayer base import');
  ok(extracted, 'tar -x of the base');
  // The chroot is a throwaway copy of the base: give it the host's resolver.
  rmSync(join(chroot, 'etc/resolv.conf'), { force: true });
  copyFileSync('/etc/resolv.conf', join(chroot, 'etc/resolv.conf'));
  // Both sides fetch the archive's lists at the same moment, so they see the same archive.
  const [refreshed, updated, info] = await Promise.all([
    deblayer(['--repo', repo, '--cache-dir', cache, 'refresh-md', '--base', BRANCH]),
    execa('chroot', [chroot, 'apt-get', 'update', '-qq'], { reject: false, env: { LC_ALL: 'C' }, stdin: 'ignore' }),
    deblayer(['--repo', repo, '--json', 'base', 'info', BRANCH, '--packages']),
  ]);
  ok(refreshed, 'deblayer refresh-md');
  ok(updated, 'apt-get update in the chroot');
  ok(info, 'deblayer base info');
  baseInfo = JSON.parse(info.stdout) as BaseInfo;
}, 300_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** name=version of every package `apt-get -s install` would unpack in the chroot. */
async function aptPlan(pkgs: string[]): Promise<string[]> {
  const r = await execa('chroot', [chroot, 'apt-get', '-s', 'install', ...pkgs], {
    reject: false,
    env: { LC_ALL: 'C' },
    stdin: 'ignore',
  });
  ok(r, `apt-get -s install ${pkgs.join(' ')}`);
  const inst = [...r.stdout.matchAll(/^Inst (\S+) (?:\[\S+\] )?\((\S+) /gm)].map(([, name, version]) => `${name!.replace(/:.*$/, '')}=${version}`);
  expect(inst.length, r.stdout).toBeGreaterThan(0);
  return inst.sort();
}

describe('a real debootstrapped bookworm base', () => {
  it('is described by base info as the tree it came from', async () => {
    expect(baseInfo.osRelease.ID).toBe('debian');
    expect(baseInfo.osRelease.VERSION_ID).toBe('12');
    expect(baseInfo.dpkgDatabase.path).toBe('/usr/lib/sysimage/dpkg');
    expect(baseInfo.architectures).toEqual(['amd64']);
    const statuses = (
      await execa('dpkg-query', [`--admindir=${join(chroot, 'var/lib/dpkg')}`, '-W', '-f', '${db:Status-Status}\n'], { env: { LC_ALL: 'C' } })
    ).stdout.split('\n');
    const installed = statuses.filter((s) => s === 'installed').length;
    expect(installed).toBeGreaterThan(80);
    expect(baseInfo.packageCount).toBe(installed);
    expect(baseInfo.packages).toHaveLength(installed);
    for (const name of ['systemd', 'systemd-sysv', 'apt', 'dpkg', 'libc6']) {
      expect(baseInfo.packages.map((p) => p.name)).toContain(name);
    }
  });

  describe('resolves real requests exactly as apt-get -s does in a chroot of the same tree', () => {
    it.each([[['htop']], [['curl']], [['nginx-light']], [['gdb', 'strace']]])(
      '%j',
      async (request) => {
        const [ours, theirs] = await Promise.all([
          deblayer(['--repo', repo, '--cache-dir', cache, '--json', 'install', '-n', '--base', BRANCH, ...request]),
          aptPlan(request),
        ]);
        expect(ours.stderr).toBe('');
        expect(ours.exitCode).toBe(0);
        const plan = JSON.parse(ours.stdout) as Plan;
        expect(plan.base.label).toBe(BRANCH);
        expect(plan.base.commit).toBe(baseInfo.commit);
        expect(plan.requested).toEqual(request);
        expect(plan.inactive).toEqual([]);

        // The same packages at the same versions, no more, no fewer.
        expect(plan.packages.map((p) => `${p.name}=${p.version}`).sort()).toEqual(theirs);

        const names = new Set(plan.packages.map((p) => p.name));
        for (const name of request) expect(names).toContain(name);
        for (const p of plan.packages) {
          if (request.includes(p.name)) {
            expect(p.reason, p.name).toBe('requested');
          } else {
            expect(p.reason, p.name).toBe('dependency');
            expect(p.requiredBy, p.name).toBeTruthy();
            expect(names, `${p.name} is required by ${p.requiredBy}`).toContain(p.requiredBy);
          }
          expect(p.downloadSize, p.name).toBeGreaterThan(0);
          expect(p.origin, p.name).toMatch(/\S/);
        }
        expect(plan.downloadSize).toBe(plan.packages.reduce((n, p) => n + p.downloadSize, 0));

        // Nothing the base already has is planned again.
        const inBase = new Set(baseInfo.packages.map((p) => p.name));
        expect(plan.packages.map((p) => p.name).filter((n) => inBase.has(n))).toEqual([]);
      },
      120_000,
    );

    it('libapt, which resolves plain requests, plans field for field what apt-get --simulate plans', async () => {
      const { contents, env } = await openBaseApt({ sysroot: '/nonexistent', repo, base: BRANCH }, { cacheDir: cache, configDir: join(work, 'no-config') });
      for (const install of [['gdb', 'strace', 'vim'], ['nginx-light', 'cron', 'openssh-server', 'man-db', 'ca-certificates', 'curl', 'vim-tiny']]) {
        const request = { install, localFiles: [] };
        const [ours, apts] = [await resolvePlan(contents, env, request), await resolvePlan(contents, env, request, { resolver: 'apt-get' })];
        const byName = (p: Plan) => [...p.packages].sort((a, b) => a.name.localeCompare(b.name));
        expect(ours.packages.length, install.join(' ')).toBeGreaterThan(20);
        expect([ours.resolver, apts.resolver]).toEqual(['libapt', 'apt-get']);
        expect(byName(ours), install.join(' ')).toEqual(byName(apts));
        expect(ours.downloadSize).toBe(apts.downloadSize);
        expect(ours.installedSize).toBe(apts.installedSize);
      }
    }, 120_000);
  });
});

describe('the imported real base boots with what the tree had', () => {
  it("keeps the dpkg database dpkg itself reads, and the debconf cache, in /usr", async () => {
    const db = join(work, 'db');
    await ostree(repo, ['checkout', '--user-mode', '--force-copy', '--subpath=/usr/lib/sysimage/dpkg', BRANCH, db]);
    const query = (admindir: string) =>
      execa('dpkg-query', [`--admindir=${admindir}`, '-W', '-f', '${Package} ${Version} ${db:Status-Abbrev}\n'], { env: { LC_ALL: 'C' } });
    expect((await query(db)).stdout).toBe((await query(join(chroot, 'var/lib/dpkg'))).stdout);
    expect(await ostree(repo, ['ls', BRANCH, '/usr/lib/sysimage/debconf/config.dat'])).toMatch(/config\.dat$/);
    const conf = await ostree(repo, ['cat', BRANCH, '/usr/lib/tmpfiles.d/deblayer-base.conf']);
    expect(conf.split('\n')).toContain('L /var/cache/debconf - - - - ../../usr/lib/sysimage/debconf');
    // The host identity is made at first boot, not shipped.
    expect(await ostree(repo, ['cat', BRANCH, '/usr/etc/machine-id'])).toBe('');
  });

  it("systemd-tmpfiles of the base recreates the tree's /var, /root and /usr/local from the commit", async () => {
    if (!inPrivateMountNamespace()) throw new Error('run with npm test: this test mounts /proc in a chroot');
    const root = join(work, 'deployed');
    await ostree(repo, ['checkout', '--force-copy', BRANCH, root]);
    // What ostree admin deploy does with /etc, then what systemd does at boot.
    await execa('cp', ['-a', join(root, 'usr/etc'), join(root, 'etc')]);
    await execa('mount', ['-t', 'proc', 'proc', join(root, 'proc')]);
    try {
      await execa('chroot', [root, 'systemd-tmpfiles', '--create', '--prefix=/var'], { env: { LC_ALL: 'C' }, reject: false });
    } finally {
      await execa('umount', [join(root, 'proc')]);
    }
    const original = snapshotTree(chroot);
    const recreated = snapshotTree(root);
    // Left out on purpose: caches, logs, apt's lists (refetched), and the
    // databases that moved to /usr (checked above).
    const dropped = (p: string) =>
      /^var\/(cache|log|tmp|lib\/apt\/lists)\/./.test(p) || /^var\/(lib\/dpkg|cache\/debconf)(\/|$)/.test(p);
    const homes: [RegExp, string][] = [
      [/^var\//, 'var/'],
      [/^root(\/|$)/, 'var/roothome$1'],
      [/^home(\/|$)/, 'var/home$1'],
      [/^srv(\/|$)/, 'var/srv$1'],
      [/^mnt(\/|$)/, 'var/mnt$1'],
      [/^opt(\/|$)/, 'var/opt$1'],
      [/^usr\/local(\/|$)/, 'var/usrlocal$1'],
    ];
    // Links are compared by where they lead: systemd's own tmpfiles.d may write /run/lock as ../run/lock.
    const strip = (n: NodeInfo, path: string) => ({
      type: n.type,
      mode: n.mode,
      uid: n.uid,
      gid: n.gid,
      sha256: n.sha256,
      target: n.target === undefined ? undefined : unmove(posix.resolve(posix.dirname(`/${path}`), n.target)),
    });
    // /root, /usr/local, ... are links into /var on the host: the same place by either name.
    const unmove = (target: string) =>
      target.replace(/^\/var\/(roothome|home|srv|mnt|opt|usrlocal)(?=\/|$)/, (_m, d: string) =>
        d === 'roothome' ? '/root' : d === 'usrlocal' ? '/usr/local' : `/${d}`,
      );
    let compared = 0;
    const missing: string[] = [];
    for (const [path, node] of original.nodes) {
      const home = homes.find(([re]) => re.test(path));
      if (!home || dropped(path) || (node.type !== 'file' && node.type !== 'dir' && node.type !== 'symlink')) continue;
      const moved = path.replace(home[0], home[1]);
      const there = recreated.nodes.get(moved);
      if (!there) {
        missing.push(path);
        continue;
      }
      expect(strip(there, moved), path).toEqual(strip(node, path));
      compared++;
    }
    expect(missing).toEqual([]);
    expect(compared).toBeGreaterThan(40);
  });
});


describe('layering on the real base, deployed in an offline sysroot', () => {
  it('installs htop: it runs in the new deployment, and dpkg and apt agree it is installed', async () => {
    // The same tree with a stand-in kernel, so that ostree admin deploy accepts it.
    const root = await extractBootableBase(realBase, join(work, 'bootable'));
    ok(await deblayer(['--repo', repo, 'base', 'import', root, '-b', 'debian/12-bootable']), 'import of the bootable base');
    const sysroot = await makeSysroot(join(work, 'sysroot'), repo, 'debian');
    try {
      await sysroot.deploy('debian/12-bootable');
      const r = await deblayer(['--sysroot', sysroot.path, '--cache-dir', cache, '--json', 'install', 'htop']);
      ok(r, 'deblayer install htop');
      const deployed = JSON.parse(r.stdout).deployed as { path: string };
      const version = await execa('chroot', [deployed.path, '/usr/bin/htop', '--version'], { env: { LC_ALL: 'C' } });
      expect(version.stdout).toMatch(/^htop 3\./);
      const admindir = `${deployed.path}/usr/lib/sysimage/dpkg`;
      const verify = await execa('dpkg', [`--root=${deployed.path}`, `--admindir=${admindir}`, '--verify', 'htop', 'libnl-3-200', 'libncursesw6'], { reject: false });
      expect(verify.stdout + verify.stderr).toBe('');
      const check = await execa('chroot', [deployed.path, 'apt-get', '-o', 'Dir::State::status=/usr/lib/sysimage/dpkg/status', 'check'], {
        reject: false,
        env: { LC_ALL: 'C' },
      });
      expect(check.exitCode, check.stdout + check.stderr).toBe(0);
      const audit = await execa('dpkg', [`--admindir=${admindir}`, '--audit'], { reject: false });
      expect(audit.stdout + audit.stderr).toBe('');
    } finally {
      await sysroot.close();
    }
  }, 300_000);
});
