// A real base: a debootstrapped minbase bookworm with systemd-sysv, from the
// Debian archive (test/make-real-base.sh), imported as an OSTree commit. Real
// requests are resolved against it with the archive as source, and every plan
// must be the one `apt-get -s install` gives in a chroot of the same tree.
// Needs deb.debian.org.

import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { deblayer } from './helpers/cli.js';

const realBase = inject('realBase');
const BRANCH = 'debian/12';

interface PlanPackage {
  name: string;
  version: string;
  architecture: string;
  origin: string;
  downloadSize: number;
  installedSize: number;
  reason: 'requested' | 'dependency';
  requiredBy?: string;
  relation?: string;
}

interface Plan {
  base: { label: string; commit: string };
  requested: string[];
  inactive: string[];
  packages: PlanPackage[];
  downloadSize: number;
  installedSize: number;
}

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
  });
});
