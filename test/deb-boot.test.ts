// deblayer's own Debian package, layered by deblayer and run in a booted
// Debian 13 machine: `npm run deb` builds the .deb, the deblayer under test
// layers it with `deblayer install ./deblayer_VERSION_ARCH.deb` onto the
// trixie boot base in an offline sysroot (its Depends are all in that base:
// make-boot-base.sh's guest flavour), `deblayer image` writes a disk image of
// that deployment, and the guest, booted under qemu, runs the packaged
// /usr/bin/deblayer. The base tree gets only the boot probe, not the copy of
// deblayer that prepare-guest-tree.sh --with-deblayer adds for the trixie
// guest of boot.test.ts: the only deblayer in this guest is the package's.
// Before the image, an override remove purges a base package from that state;
// the guest also turns on the package's automatic upgrade and fires it.
// A file of its own, beside boot.test.ts, so vitest can run it alongside.
// Needs deb.debian.org (the base's package lists for resolution).

import { execa } from 'execa';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { CLI, deblayer } from './helpers/cli.js';
import { boot, describeBoot, prepareGuestTree, type BootResult } from './helpers/guest.js';
import { makeSysroot, type TestSysroot } from './helpers/sysroot.js';

const PROJECT = new URL('../', import.meta.url).pathname;
const VERSION = (JSON.parse(readFileSync(join(PROJECT, 'package.json'), 'utf8')) as { version: string }).version;

/** The value of the last NAME=VALUE line the probe printed. */
function field(r: BootResult, name: string): string | undefined {
  return [...r.probe.matchAll(new RegExp(`^${name}=(.*)$`, 'gm'))].pop()?.[1];
}

describe('deblayer\'s Debian package in a trixie guest', () => {
  let work: string;
  let sysroot: TestSysroot | undefined;
  let debName: string;
  let image: string;
  let layeredCommit: string;
  const timings: Record<string, number> = {};
  const since = (t: number) => Math.round((Date.now() - t) / 100) / 10;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'deblayer-deb-boot-'));
    let t = Date.now();
    const built = await execa('npm', ['run', '--silent', 'deb', '--', work], { cwd: PROJECT, reject: false });
    expect(built.exitCode, built.stderr).toBe(0);
    debName = built.stdout.trim().split('/').pop()!;
    timings.deb = since(t);

    t = Date.now();
    const repo = join(work, 'repo');
    const tree = await prepareGuestTree(inject('bootBaseTrixieGuest'), join(work, 'tree'));
    const imported = await deblayer(['--repo', repo, 'base', 'import', tree, '-b', 'debian/trixie']);
    expect(imported.exitCode, imported.stderr).toBe(0);
    rmSync(tree, { recursive: true, force: true });
    sysroot = await makeSysroot(join(work, 'sysroot'), repo, 'debian', '4g');
    await sysroot.deploy('debian/trixie');
    rmSync(repo, { recursive: true, force: true });
    timings.base = since(t);
  }, 600_000);

  afterAll(async () => {
    await sysroot?.close();
    if (work) rmSync(work, { recursive: true, force: true });
    console.log(`deb boot timings (s): ${JSON.stringify(timings)}`);
  });

  test('deblayer install ./deblayer_VERSION_ARCH.deb layers the package onto the trixie base, its dependencies all in the base', async () => {
    const t = Date.now();
    // As an admin types it: a relative path to the .deb, from the directory that holds it.
    const installed = await execa('node', [CLI, '--sysroot', sysroot!.path, '--cache-dir', join(work, 'cache'), 'install', '-y', `./${debName}`], {
      cwd: work,
      reject: false,
      env: { LC_ALL: 'C' },
      stdin: 'ignore',
    });
    expect(installed.exitCode, installed.stderr).toBe(0);
    timings.install = since(t);
    const status = await deblayer(['--sysroot', sysroot!.path, '--json', 'status']);
    expect(status.exitCode, status.stderr).toBe(0);
    const next = (JSON.parse(status.stdout) as { deployments: { checksum: string; requestedLocal: string[]; layeredPackages: string[] }[] }).deployments[0]!;
    expect(next.requestedLocal).toEqual([expect.stringMatching(new RegExp(`^deblayer_${VERSION.replace(/\./g, '\\.')}_`))]);
    // Only deblayer itself is layered: nodejs, ostree, python3-apt, bubblewrap ... come from the base.
    expect(next.layeredPackages).toEqual([`deblayer=${VERSION}`]);
    layeredCommit = next.checksum;
    // The layered commit's / is the base's (0755): a 0700 root, as staging
    // directories once gave a commit of packages without maintainer scripts,
    // leaves services that run as their own users unable to reach /run.
    const root = await execa('ostree', [`--repo=${join(sysroot!.path, 'ostree/repo')}`, 'ls', '-d', layeredCommit, '/']);
    expect(root.stdout).toMatch(/^d00755 0 0 /);
  }, 600_000);

  test('override remove ca-certificates purges a trixie base package from that state, the layered package kept', async () => {
    const removed = await deblayer(['--sysroot', sysroot!.path, '--cache-dir', join(work, 'cache'), '-v', 'override', 'remove', '-y', 'ca-certificates']);
    expect(removed.exitCode, removed.stderr).toBe(0);
    expect(removed.stderr).toContain('Building on the current state: only the removal is done.');
    const status = await deblayer(['--sysroot', sysroot!.path, '--json', 'status']);
    const next = (JSON.parse(status.stdout) as { deployments: { checksum: string; layeredPackages: string[]; removedBasePackages: string[] }[] }).deployments[0]!;
    expect(next.layeredPackages).toEqual([`deblayer=${VERSION}`]);
    expect(next.removedBasePackages).toEqual([expect.stringMatching(/^ca-certificates=/)]);
    layeredCommit = next.checksum;
  }, 600_000);

  test('the booted guest runs the packaged /usr/bin/deblayer: --version, status, and dpkg knows its files unchanged', async () => {
    expect(layeredCommit).toBeDefined();
    let t = Date.now();
    image = join(work, 'deb.img');
    // The cache dir holds the local .deb the layer came from: the image carries it, as for any local package.
    const made = await deblayer(['--repo', join(sysroot!.path, 'ostree/repo'), '--cache-dir', join(work, 'cache'), 'image', 'deblayer/state/2', '-o', image, '--karg', 'console=ttyS0']);
    expect(made.exitCode, made.stderr).toBe(0);
    timings.image = since(t);
    await sysroot!.close();
    sysroot = undefined;
    t = Date.now();
    const r = await boot({
      image,
      workDir: work,
      name: 'trixie-deb',
      timeoutMs: 600_000,
      memory: 2048,
      script: `
systemctl is-system-running --wait >/dev/null 2>&1
echo "state=$(systemctl is-system-running)"
for unit in $(systemctl --failed --no-legend --plain | awk '{print $1}'); do
  echo "failed: $unit"
  journalctl -b -u "$unit" --no-pager | tail -n 8 | sed "s/^/journal $unit: /"
done
echo "booted-commit=$(ostree admin status | sed -n 's/^\\* [a-z0-9_-]* \\([0-9a-f]\\{64\\}\\)\\..*/\\1/p')"
echo "which=$(command -v deblayer)"
echo "owner=$(dpkg-query -S /usr/bin/deblayer /usr/lib/deblayer/dist/bundle/main.js | cut -d: -f1 | sort -u | tr '\\n' ' ')"
echo "dpkg-deblayer=$(dpkg-query -W -f='\${db:Status-Abbrev}\${Version}' deblayer)"
dpkg --verify deblayer > /tmp/verify 2>&1
echo "verify-rc=$? verify-lines=$(wc -l < /tmp/verify)"
echo "version=$(deblayer --version)"
echo "status-json=$(deblayer --json status | tr -d '\\n')"
echo "dpkg-ca=$(dpkg-query -W -f='\${db:Status-Abbrev}' ca-certificates 2>/dev/null | grep -q '^ii' && echo installed || echo none)"
echo "ca-bundle=$(ls /etc/ssl/certs/ca-certificates.crt 2>/dev/null || echo none)"
echo "removed-line=$(deblayer status | sed -n 's/^RemovedBasePackages: //p')"
deblayer status > /tmp/status 2>&1
echo "status-rc=$?"
sed 's/^/status: /' /tmp/status
# The automatic upgrade, as an admin turns it on, its timer fired by hand. Its
# sources: an empty local repository (the guest has no mirror of its own).
mkdir -p /srv/repo /etc/deblayer/sources.list.d
: > /srv/repo/Packages
printf 'Date: %s\nSHA256:\n %s 0 Packages\n' "$(date -u '+%a, %d %b %Y %H:%M:%S UTC')" "$(sha256sum < /srv/repo/Packages | cut -d' ' -f1)" > /srv/repo/Release
echo 'deb [trusted=yes] file:/srv/repo ./' > /etc/deblayer/sources.list.d/local.list
printf '[Automatic]\nUpdatePolicy=stage\n' > /etc/deblayer/deblayer.conf
systemctl enable --now deblayer-upgrade.timer 2>/dev/null
echo "timer=$(systemctl is-enabled deblayer-upgrade.timer) $(systemctl is-active deblayer-upgrade.timer)"
systemctl start deblayer-upgrade.service
echo "upgrade-service=$? $(systemctl show -P Result deblayer-upgrade.service)"
journalctl -b -u deblayer-upgrade.service --no-pager | tail -n 6 | sed 's/^/journal deblayer-upgrade: /'
echo "auto=$(deblayer status | sed -n 's/^AutomaticUpdates: //p')"
echo "deployments=$(ostree admin status | grep -c '^[* ] [a-z0-9_-]* [0-9a-f]\\{64\\}\\.')"
`,
    });
    timings.boot = r.seconds;
    timings.bootUp = r.upAfter ?? -1;
    expect(r.probe, describeBoot(r)).not.toMatch(/^failed: /m);
    expect(field(r, 'state'), describeBoot(r)).toBe('running');
    expect(field(r, 'booted-commit'), describeBoot(r)).toBe(layeredCommit);
    expect(field(r, 'which')).toBe('/usr/bin/deblayer');
    // Both the command and the program it runs belong to the package (no copy put in by the test).
    expect(field(r, 'owner')?.trim()).toBe('deblayer');
    expect(field(r, 'dpkg-deblayer')).toBe(`ii ${VERSION}`);
    expect(field(r, 'verify-rc'), describeBoot(r)).toBe('0 verify-lines=0');
    expect(field(r, 'version'), describeBoot(r)).toBe(VERSION);
    expect(field(r, 'status-rc'), describeBoot(r)).toBe('0');
    const status = JSON.parse(field(r, 'status-json') ?? '{}') as { deployments?: { checksum: string; booted: boolean; layeredPackages: string[] }[] };
    const booted = status.deployments?.find((d) => d.booted);
    expect(booted, describeBoot(r)).toMatchObject({ checksum: layeredCommit, layeredPackages: [`deblayer=${VERSION}`] });
    // The human form names the layered package too.
    expect(r.probe).toMatch(/^status: .*deblayer/m);
    // The base package the override removed is not there, and status says so.
    expect(field(r, 'dpkg-ca')).toBe('none');
    expect(field(r, 'ca-bundle')).toBe('none');
    expect(field(r, 'removed-line')).toMatch(/^ca-certificates \S+$/);
    // The automatic upgrade: the timer is enabled and waiting; the service it
    // starts ran under UpdatePolicy=stage, found nothing new, staged nothing, and
    // status tells of that run.
    expect(field(r, 'timer'), describeBoot(r)).toBe('enabled active');
    expect(field(r, 'upgrade-service'), describeBoot(r)).toBe('0 success');
    expect(field(r, 'auto'), describeBoot(r)).toMatch(/^stage; last run \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC: no upgrade available$/);
    expect(field(r, 'deployments'), describeBoot(r)).toBe('1');
  }, 900_000);
});
