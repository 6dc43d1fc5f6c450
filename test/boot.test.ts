// A deployment is right when a machine boots it. Disk images written by
// `deblayer image` are booted under qemu (OVMF firmware, GRUB from the ESP,
// software emulation), and a probe in the guest reports what a user would
// check: the system is up with no failed unit, / is the deployment ostree
// lists first, layered services run and answer on a forwarded port, a
// rollback brings the base back (offline on a bookworm sysroot; in a trixie
// guest that runs deblayer itself, where an install staged in the guest is what
// the next boot runs), and an upgrade in the guest pulls a new base from the
// remote the image was given. Needs deb.debian.org (the bases, the packages).

import { execa } from 'execa';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { deblayer } from './helpers/cli.js';
import { buildPackage } from './helpers/apt-repo.js';
import { boot, describeBoot, freePort, prepareGuestTree, type BootResult } from './helpers/guest.js';
import { serveDirectory, type HttpRepo } from './helpers/http-repo.js';
import { makeSysroot, type TestSysroot } from './helpers/sysroot.js';

const BOOT_TIMEOUT = 360_000;
const PAGE = 'deblayer boot test: this page comes from a layered package';

/** What every probe reports first: the boot finished, and how. */
const BOOT_REPORT = `
systemctl is-system-running --wait >/dev/null 2>&1
echo "state=$(systemctl is-system-running)"
echo "startup=$(systemd-analyze time | sed -n 's/^Startup finished in //p')"
systemctl --failed --no-legend --plain | sed 's/^/failed: /'
[ -e /run/ostree-booted ] && echo "ostree-booted=yes"
ostree admin status | sed 's/^/status: /'
set -- $(ostree admin status | sed -n 's/^[* ] \\([a-z0-9_-]*\\) \\([0-9a-f]\\{64\\}\\.[0-9]*\\).*/\\1 \\2/p' | head -n 1)
echo "first-deployment=$2"
[ "$(stat -c %d:%i /)" = "$(stat -c %d:%i /sysroot/ostree/deploy/$1/deploy/$2)" ] && echo "root-is-first=yes"
`;

/** The value of the last NAME=VALUE line the probe printed. */
function field(r: BootResult, name: string): string | undefined {
  return [...r.probe.matchAll(new RegExp(`^${name}=(.*)$`, 'gm'))].pop()?.[1];
}

function expectCleanBoot(r: BootResult): void {
  expect(field(r, 'state'), describeBoot(r)).toBe('running');
  expect(r.probe, describeBoot(r)).not.toMatch(/^failed: /m);
  expect(field(r, 'ostree-booted'), describeBoot(r)).toBe('yes');
  expect(field(r, 'root-is-first'), describeBoot(r)).toBe('yes');
}

/** A package that ships the page the web server serves (under /var: made at first boot from tmpfiles.d). */
async function pagePackage(dir: string): Promise<string> {
  return buildPackage(
    {
      Package: 'deblayer-test-page',
      Version: '1.0',
      Architecture: 'all',
      files: { 'var/www/html/index.html': `<p>${PAGE}</p>\n` },
    },
    dir,
  );
}

async function fetchPage(port: number): Promise<string> {
  const r = await execa('curl', ['-sS', '--max-time', '20', `http://127.0.0.1:${port}/`], { reject: false });
  return r.exitCode === 0 ? r.stdout : `curl failed: ${r.stderr}`;
}

describe('bookworm', () => {
  let work: string;
  let repo: string;
  let sysroot: TestSysroot | undefined;
  const timings: Record<string, number | string> = {};

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'deblayer-boot-bookworm-'));
    repo = join(work, 'repo');
    const tree = await prepareGuestTree(inject('bootBase'), join(work, 'tree'));
    const t = Date.now();
    const imported = await deblayer(['--repo', repo, 'base', 'import', tree, '-b', 'debian/bookworm']);
    expect(imported.exitCode, imported.stderr).toBe(0);
    expect(imported.stdout).toMatch(/kernel: +\S+ \(bootable/);
    timings.import = (Date.now() - t) / 1000;
    rmSync(tree, { recursive: true, force: true });
  }, 600_000);

  afterAll(async () => {
    await sysroot?.close();
    if (work) rmSync(work, { recursive: true, force: true });
    console.log(`bookworm boot timings (s): ${JSON.stringify(timings)}`);
  });

  test('the base image boots to multi-user with no failed unit, and / is the deployment ostree lists first', async () => {
    const image = join(work, 'base.img');
    const t = Date.now();
    const made = await deblayer(['--repo', repo, '--json', 'image', 'debian/bookworm', '-o', image, '--karg', 'console=ttyS0', '--remote', 'os=http://10.0.2.2:1/repo']);
    expect(made.exitCode, made.stderr).toBe(0);
    timings.image = (Date.now() - t) / 1000;
    const info = JSON.parse(made.stdout) as { commit: string; kernel: string; kargs: string[]; refspec: string; partitions: { filesystem: string }[] };
    expect(info.kargs).toEqual(['root=LABEL=deblayer-root', 'rw', 'console=ttyS0']);
    expect(info.refspec).toBe('os:debian/bookworm');
    expect(info.partitions.map((p) => p.filesystem)).toEqual(['vfat', 'ext4']);
    const r = await boot({
      image,
      workDir: work,
      name: 'bookworm-base',
      timeoutMs: BOOT_TIMEOUT,
      script: `${BOOT_REPORT}
echo "kernel=$(uname -r)"
echo "cmdline=$(cat /proc/cmdline)"
echo "origin=$(sed -n 's/^refspec=//p' /sysroot/ostree/deploy/debian/deploy/*.0.origin)"
echo "remote=$(ostree remote show-url os)"
echo "commits=$(ostree log os:debian/bookworm | grep -c '^commit ')"
`,
    });
    timings.bootBase = r.seconds;
    timings.bootBaseUp = r.upAfter ?? -1;
    timings.bootBaseSystemd = field(r, 'startup') ?? '';
    expectCleanBoot(r);
    expect(field(r, 'first-deployment')).toBe(`${info.commit}.0`);
    expect(field(r, 'kernel')).toBe(info.kernel);
    expect(field(r, 'cmdline')).toMatch(/ root=LABEL=deblayer-root rw console=ttyS0 ostree=\/ostree\/boot\.\d\/debian\//);
    // The remote the booted machine upgrades from, and no history shipped.
    expect(field(r, 'origin')).toBe('os:debian/bookworm');
    expect(field(r, 'remote')).toBe('http://10.0.2.2:1/repo');
    expect(field(r, 'commits')).toBe('1');
  }, 600_000);

  test('layered services run at first boot, the second install built on the first: the web server answers with the layer\'s page, redis, postgres and dbus are up, and postgres owns its cluster', async () => {
    const layeredSysroot = (sysroot = await makeSysroot(join(work, 'sysroot'), repo, 'debian', '4g'));
    await layeredSysroot.deploy('debian/bookworm');
    const page = await pagePackage(work);
    let t = Date.now();
    const install = (args: string[]) => deblayer(['--sysroot', layeredSysroot.path, '--cache-dir', join(work, 'cache'), '-v', 'install', '-y', ...args]);
    const first = await install(['dbus']);
    expect(first.exitCode, first.stderr).toBe(0);
    // The services, postgresql's cluster and the page come from a state built on the first (an incremental install).
    const second = await install(['nginx-light', 'redis-server', 'postgresql', page]);
    expect(second.exitCode, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/Building on the current state/);
    timings.layer = (Date.now() - t) / 1000;
    const image = join(work, 'layered.img');
    t = Date.now();
    // The cache dir the install kept the local page package in: the image carries it.
    const made = await deblayer(['--repo', join(sysroot.path, 'ostree/repo'), '--cache-dir', join(work, 'cache'), '--json', 'image', 'deblayer/state/2', '-o', image, '--karg', 'console=ttyS0']);
    expect(made.exitCode, made.stderr).toBe(0);
    timings.imageLayered = (Date.now() - t) / 1000;
    const info = JSON.parse(made.stdout) as { commit: string; baseCommit: string; requested: string[] };
    expect(info.requested).toEqual(expect.arrayContaining(['nginx-light', 'redis-server', 'postgresql', 'dbus']));
    const port = await freePort();
    let served = '';
    const r = await boot({
      image,
      workDir: work,
      name: 'bookworm-layered',
      timeoutMs: BOOT_TIMEOUT,
      memory: 2048,
      httpPort: port,
      onProbeLine: async (line) => {
        if (line === 'ready-for-http') served = await fetchPage(port);
      },
      script: `${BOOT_REPORT}
for unit in nginx redis-server postgresql@15-main dbus; do echo "active-$unit=$(systemctl is-active $unit)"; done
echo "cluster-owner=$(stat -c %U /var/lib/postgresql/15/main)"
echo "redis=$(redis-cli ping)"
echo "dpkg-nginx=$(dpkg-query -W -f='\${db:Status-Abbrev}\${Version}' nginx-light)"
echo "local-debs=$(ls /var/cache/deblayer/local)"
echo ready-for-http
for i in $(seq 1 120); do grep -q 'GET / ' /var/log/nginx/access.log 2>/dev/null && break; sleep 1; done
echo "requests=$(grep -c 'GET / ' /var/log/nginx/access.log)"
`,
    });
    timings.bootLayered = r.seconds;
    expectCleanBoot(r);
    expect(field(r, 'first-deployment')).toBe(`${info.commit}.0`);
    expect(field(r, 'active-nginx'), describeBoot(r)).toBe('active');
    expect(field(r, 'active-redis-server'), describeBoot(r)).toBe('active');
    expect(field(r, 'active-postgresql@15-main'), describeBoot(r)).toBe('active');
    expect(field(r, 'active-dbus'), describeBoot(r)).toBe('active');
    expect(field(r, 'cluster-owner')).toBe('postgres');
    expect(field(r, 'redis')).toBe('PONG');
    expect(field(r, 'dpkg-nginx')).toMatch(/^ii /);
    // The layer's local package travels with the image: the booted machine recomposes with it.
    expect(field(r, 'local-debs')).toBe('deblayer-test-page_1.0_all.deb');
    expect(served).toContain(PAGE);
  }, 1_200_000);

  test('a manifest composed twice, then imaged by its name: the disk boots the branch\'s last commit only, and the web server answers', async () => {
    const page = await pagePackage(join(work, 'manifest'));
    const manifest = join(work, 'manifest', 'web.layer');
    const write = (version: number) =>
      writeFileSync(manifest, `Base: debian/bookworm\nBranch: layers/web\nPackages: nginx-light, ./${page.split('/').pop()}\nMetadata-Version: ${version}\n`);
    const compose = () => deblayer(['--repo', repo, '--cache-dir', join(work, 'cache'), '--json', 'compose', manifest]);
    write(1);
    let t = Date.now();
    const first = await compose();
    expect(first.exitCode, first.stderr).toBe(0);
    timings.compose = (Date.now() - t) / 1000;
    write(2);
    const second = await compose();
    expect(second.exitCode, second.stderr).toBe(0);
    const commit = JSON.parse(second.stdout).commit as string;
    expect(JSON.parse(second.stdout).previous).toBe(JSON.parse(first.stdout).commit);
    const image = join(work, 'composed.img');
    t = Date.now();
    const made = await deblayer(['--repo', repo, '--json', 'image', manifest, '-o', image, '--karg', 'console=ttyS0', '--remote', 'os=http://10.0.2.2:1/repo']);
    expect(made.exitCode, made.stderr).toBe(0);
    timings.imageComposed = (Date.now() - t) / 1000;
    expect(JSON.parse(made.stdout)).toMatchObject({ commit, refspec: 'os:layers/web' });
    const port = await freePort();
    let served = '';
    const r = await boot({
      image,
      workDir: work,
      name: 'bookworm-composed',
      timeoutMs: BOOT_TIMEOUT,
      httpPort: port,
      onProbeLine: async (line) => {
        if (line === 'ready-for-http') served = await fetchPage(port);
      },
      script: `${BOOT_REPORT}
echo "active-nginx=$(systemctl is-active nginx)"
echo "dpkg-nginx=$(dpkg-query -W -f='\${db:Status-Abbrev}' nginx-light)"
echo "version=$(ostree show --print-metadata-key=version ${commit})"
echo "commits=$(ostree log os:layers/web | grep -c '^commit ')"
echo ready-for-http
for i in $(seq 1 120); do grep -q 'GET / ' /var/log/nginx/access.log 2>/dev/null && break; sleep 1; done
`,
    });
    timings.bootComposed = r.seconds;
    expectCleanBoot(r);
    expect(field(r, 'first-deployment')).toBe(`${commit}.0`);
    expect(field(r, 'active-nginx'), describeBoot(r)).toBe('active');
    expect(field(r, 'dpkg-nginx')).toMatch(/^ii/);
    expect(field(r, 'version')).toBe("'2'");
    // The repository had two commits on the branch; the image holds only the last.
    expect(field(r, 'commits')).toBe('1');
    expect(served).toContain(PAGE);
  }, 900_000);

  // bookworm's nodejs is 18, too old for deblayer: the rollback is made offline on the sysroot, and the image is of what it boots next.
  test('rollback offline, then an image of what the sysroot boots next: the first state (dbus alone) runs again, with no web server', async () => {
    expect(sysroot).toBeDefined();
    const rolled = await deblayer(['--sysroot', sysroot!.path, 'rollback']);
    expect(rolled.exitCode, rolled.stderr).toBe(0);
    const image = join(work, 'rolled-back.img');
    const made = await deblayer(['--sysroot', sysroot!.path, '--json', 'image', '-o', image, '--karg', 'console=ttyS0']);
    expect(made.exitCode, made.stderr).toBe(0);
    const info = JSON.parse(made.stdout) as { commit: string; refspec: string; requested: string[] };
    const first = (await execa('ostree', [`--repo=${join(sysroot!.path, 'ostree/repo')}`, 'rev-parse', 'deblayer/state/1'])).stdout.trim();
    expect(info).toMatchObject({ commit: first, refspec: 'debian/bookworm', requested: ['dbus'] });
    const r = await boot({
      image,
      workDir: work,
      name: 'bookworm-rolled-back',
      timeoutMs: BOOT_TIMEOUT,
      script: `${BOOT_REPORT}
echo "nginx-unit=$(systemctl list-unit-files nginx.service --no-legend | wc -l)"
echo "nginx-etc=$([ -e /etc/nginx ] && echo present || echo absent)"
echo "dpkg-nginx=$(dpkg-query -W -f='\${db:Status-Abbrev}' nginx-light 2>/dev/null || echo none)"
echo "dpkg-dbus=$(dpkg-query -W -f='\${db:Status-Abbrev}' dbus 2>/dev/null || echo none)"
`,
    });
    timings.bootRolledBack = r.seconds;
    expectCleanBoot(r);
    expect(field(r, 'first-deployment')).toBe(`${first}.0`);
    expect(field(r, 'nginx-unit')).toBe('0');
    expect(field(r, 'nginx-etc')).toBe('absent');
    expect(field(r, 'dpkg-nginx')).toBe('none');
    expect(field(r, 'dpkg-dbus')).toMatch(/^ii /);
  }, 600_000);
});

interface GuestStatus {
  deployments: {
    checksum: string;
    serial: number;
    booted: boolean;
    default: boolean;
    staged: boolean;
    unlocked?: string;
    liveCommit?: string;
    baseCommit: string;
    requested: string[];
    requestedLocal: string[];
    layeredPackages: string[];
    removedBasePackages: string[];
  }[];
}

function guestStatus(r: BootResult, name = 'status-json'): GuestStatus {
  const json = field(r, name);
  if (!json) throw new Error(`no deblayer status in the guest's report\n${describeBoot(r)}`);
  return JSON.parse(json) as GuestStatus;
}

// Hosts run trixie, Debian's stable release: this guest is a trixie base with
// deblayer and its dependencies in it, and deblayer is run inside it.
describe('trixie guest running deblayer', () => {
  let work: string;
  let image: string;
  let baseCommit: string;
  let layeredCommit: string;
  let newBaseCommit: string;
  let overriddenCommit: string;
  let debs: HttpRepo;
  const timings: Record<string, number | string> = {};
  // The guest reaches the host's loopback as 10.0.2.2 (qemu user networking).
  const status = (name = 'status-json') => `echo "${name}=$(deblayer --json status | tr -d '\\n')"`;
  const STATUS = status();

  let repo: string;
  let tree: string;
  /** An archive-mode copy of the repository, served over HTTP: the remote the image upgrades from. */
  let published: string;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'deblayer-boot-trixie-'));
    repo = join(work, 'repo');
    tree = await prepareGuestTree(inject('bootBaseTrixieGuest'), join(work, 'tree'), { withDeblayer: true });
    let t = Date.now();
    const imported = await deblayer(['--repo', repo, '--json', 'base', 'import', tree, '-b', 'debian/trixie']);
    expect(imported.exitCode, imported.stderr).toBe(0);
    timings.import = (Date.now() - t) / 1000;
    baseCommit = (JSON.parse(imported.stdout) as { commit: string }).commit;
    const served = join(work, 'served');
    await pagePackage(served);
    published = join(served, 'repo');
    await execa('ostree', [`--repo=${published}`, 'init', '--mode=archive']);
    await execa('ostree', [`--repo=${published}`, 'pull-local', repo, 'debian/trixie']);
    debs = await serveDirectory(served);
    image = join(work, 'trixie.img');
    t = Date.now();
    const remote = `os=http://10.0.2.2:${new URL(debs.url).port}/repo`;
    const made = await deblayer(['--repo', repo, 'image', 'debian/trixie', '-o', image, '--size', '6G', '--karg', 'console=ttyS0', '--remote', remote]);
    expect(made.exitCode, made.stderr).toBe(0);
    timings.image = (Date.now() - t) / 1000;
  }, 600_000);

  afterAll(async () => {
    await debs?.close();
    if (work) rmSync(work, { recursive: true, force: true });
    console.log(`trixie guest timings (s): ${JSON.stringify(timings)}`);
  });

  test('the base boots, and deblayer install in the guest stages a deployment; a second install before the reboot builds on it', async () => {
    const port = new URL(debs.url).port;
    // A system extension of tree made against the same base, for systemd-sysext in the guest.
    const t = Date.now();
    const sysext = await deblayer(['--repo', repo, 'sysext', '--base', 'debian/trixie', 'tree', '-o', join(work, 'served', 'tree.raw')]);
    expect(sysext.exitCode, sysext.stderr).toBe(0);
    timings.sysext = (Date.now() - t) / 1000;
    // And one of vim-tiny, whose generic names (vi, editor) go through /etc/alternatives in a layer.
    const vim = await deblayer(['--repo', repo, 'sysext', '--base', 'debian/trixie', '--no-install-recommends', '--without-etc', 'vim-tiny', '-o', join(work, 'served', 'vim.raw')]);
    expect(vim.exitCode, vim.stderr).toBe(0);
    const r = await boot({
      image,
      workDir: work,
      name: 'trixie-install',
      timeoutMs: 900_000,
      memory: 2048,
      script: `${BOOT_REPORT}
${status('status-before')}
mkdir -p /var/lib/extensions
curl -sSf -o /var/lib/extensions/tree.raw http://10.0.2.2:${port}/tree.raw
curl -sSf -o /var/lib/extensions/vim.raw http://10.0.2.2:${port}/vim.raw
systemd-sysext merge > /tmp/sysext 2>&1
echo "sysext-merge-rc=$? $(tr '\n' '|' < /tmp/sysext)"
echo "sysext-tree=$(tree --version 2>&1 | head -n 1)"
echo "sysext-vi=$(vi --version 2>&1 | head -n 1)"
echo "sysext-editor=$(editor --version 2>&1 | head -n 1)"
echo "sysext-list=$(systemd-sysext list --no-legend 2>&1 | awk '{print $1}' | sort | paste -sd,)"
systemd-sysext unmerge > /tmp/sysext 2>&1
echo "sysext-unmerge-rc=$? $(tr '\n' '|' < /tmp/sysext)"
echo "sysext-after=$(command -v tree || echo none) $(command -v vi || echo none)"
rm -f /var/lib/extensions/tree.raw /var/lib/extensions/vim.raw
curl -sSf -o /tmp/deblayer-test-page_1.0_all.deb http://10.0.2.2:${port}/deblayer-test-page_1.0_all.deb
start=$(date +%s)
deblayer install -y nginx /tmp/deblayer-test-page_1.0_all.deb
echo "install-rc=$?"
echo "install-seconds=$(( $(date +%s) - start ))"
${status('status-first')}
start=$(date +%s)
deblayer install -y --apply-live tree > /tmp/live 2>&1
echo "second-install-rc=$?"
echo "second-install-seconds=$(( $(date +%s) - start ))"
echo "live-says=$(grep '^Applied' /tmp/live)"
echo "live-output=$(tr '\n' '|' < /tmp/live | tail -c 600)"
echo "live-tree=$(tree --version 2>&1 | head -n 1)"
echo "live-dpkg-tree=$(dpkg-query -W -f='\${db:Status-Abbrev}' tree)"
echo "live-nginx-conf=$([ -f /etc/nginx/nginx.conf ] && echo present)"
echo "live-nginx-enabled=$(systemctl is-enabled nginx 2>&1)"
systemctl start nginx
echo "live-nginx-active=$(systemctl is-active nginx)"
echo "live-page=$(curl -s http://localhost/ | tr -d '\n')"
echo "live-usr-writable=$(touch /usr/share/deblayer-live-test 2>/dev/null && echo yes || echo no)"
${STATUS}
deblayer apply-live --unchanged-exit-77 > /tmp/live-again 2>&1
echo "live-again-rc=$? $(head -n 1 /tmp/live-again)"
`,
    });
    timings.bootBase = r.seconds;
    timings.installInGuest = Number(field(r, 'install-seconds'));
    timings.secondInstallInGuest = Number(field(r, 'second-install-seconds'));
    expectCleanBoot(r);
    expect(field(r, 'first-deployment')).toBe(`${baseCommit}.0`);
    // systemd-sysext merges the image made on the host (its extension-release matches the guest's os-release), and unmerges it.
    expect(field(r, 'sysext-merge-rc'), describeBoot(r)).toMatch(/^0/);
    expect(field(r, 'sysext-tree')).toMatch(/^tree v2/);
    expect(field(r, 'sysext-vi')).toMatch(/^VIM - Vi IMproved 9\./);
    expect(field(r, 'sysext-editor')).toMatch(/^VIM - Vi IMproved 9\./);
    expect(field(r, 'sysext-list')).toBe('tree,vim');
    expect(field(r, 'sysext-unmerge-rc')).toMatch(/^0/);
    expect(field(r, 'sysext-after')).toBe('none none');
    expect(guestStatus(r, 'status-before').deployments.map((d) => d.checksum)).toEqual([baseCommit]);
    expect(field(r, 'install-rc'), describeBoot(r)).toBe('0');
    const first = guestStatus(r, 'status-first').deployments;
    expect(first[0]!.staged, describeBoot(r)).toBe(true);
    expect(first[0]!.requested).toEqual(['nginx']);
    expect(first[0]!.requestedLocal).toEqual([expect.stringMatching(/^deblayer-test-page_1\.0_all/)]);
    // The second install starts from the staged deployment, not from the booted base: nginx and the page stay.
    expect(field(r, 'second-install-rc'), describeBoot(r)).toBe('0');
    const after = guestStatus(r).deployments;
    expect(after[0]!.staged, describeBoot(r)).toBe(true);
    expect(after[0]!.checksum).not.toBe(first[0]!.checksum);
    expect(after[0]!.requested).toEqual(['nginx', 'tree']);
    expect(after[0]!.requestedLocal).toEqual(first[0]!.requestedLocal);
    expect(after[0]!.layeredPackages).toEqual(expect.arrayContaining([expect.stringMatching(/^nginx=/), 'deblayer-test-page=1.0', expect.stringMatching(/^tree=/)]));
    expect(after.filter((d) => d.staged)).toHaveLength(1);
    expect(after[1]!.booted).toBe(true);
    layeredCommit = after[0]!.checksum;
    // --apply-live: what the staged deployment adds to the booted base runs now, and it stays the next boot's default.
    expect(field(r, 'live-output')).not.toContain('warning');
    expect(field(r, 'live-says')).toMatch(new RegExp(`^Applied ${layeredCommit.slice(0, 10)} live: \\d+ packages added \\(.*nginx=.*deblayer-test-page=1\\.0.*\\)\\.$`));
    expect(field(r, 'live-tree')).toMatch(/^tree v2/);
    expect(field(r, 'live-dpkg-tree')).toMatch(/^ii/);
    expect(field(r, 'live-nginx-conf')).toBe('present');
    expect(field(r, 'live-nginx-enabled')).toBe('enabled');
    expect(field(r, 'live-nginx-active'), describeBoot(r)).toBe('active');
    expect(field(r, 'live-page')).toContain(PAGE);
    // The overlay is read-only to everyone but apply-live: not a usroverlay.
    expect(field(r, 'live-usr-writable')).toBe('no');
    expect(after[1]).toMatchObject({ unlocked: 'transient', liveCommit: layeredCommit });
    expect(field(r, 'live-again-rc')).toBe(`77 ${layeredCommit.slice(0, 10)} is live already: nothing to apply.`);
  }, 1_200_000);

  test('the next boot runs the staged deployment: the packages are in dpkg and the web server answers; rollback in the guest', async () => {
    expect(layeredCommit).toBeDefined();
    const port = await freePort();
    let served = '';
    const r = await boot({
      image,
      workDir: work,
      name: 'trixie-layered',
      timeoutMs: BOOT_TIMEOUT * 2,
      memory: 2048,
      httpPort: port,
      onProbeLine: async (line) => {
        if (line === 'ready-for-http') served = await fetchPage(port);
      },
      script: `${BOOT_REPORT}
echo "active-nginx=$(systemctl is-active nginx)"
echo "dpkg-nginx=$(dpkg-query -W -f='\${db:Status-Abbrev}' nginx)"
echo "dpkg-page=$(dpkg-query -W -f='\${db:Status-Abbrev}\${Version}' deblayer-test-page)"
echo "dpkg-tree=$(dpkg-query -W -f='\${db:Status-Abbrev}' tree)"
echo "tree-runs=$(tree --version >/dev/null 2>&1 && echo yes)"
${STATUS}
echo ready-for-http
for i in $(seq 1 120); do grep -q 'GET / ' /var/log/nginx/access.log 2>/dev/null && break; sleep 1; done
deblayer usroverlay > /tmp/usroverlay 2>&1
echo "usroverlay-rc=$? $(head -n 1 /tmp/usroverlay)"
touch /usr/share/deblayer-usroverlay-test && echo "usr-written=yes"
echo "unlocked=$(deblayer status | sed -n 's/^ *Unlocked: //p')"
${status('status-unlocked')}
deblayer rollback > /tmp/rollback 2>&1
echo "rollback-rc=$? $(grep '/etc:' /tmp/rollback)"
${STATUS}
`,
    });
    timings.bootLayered = r.seconds;
    expectCleanBoot(r);
    expect(field(r, 'first-deployment')).toBe(`${layeredCommit}.0`);
    expect(field(r, 'active-nginx'), describeBoot(r)).toBe('active');
    expect(field(r, 'dpkg-nginx')).toMatch(/^ii/);
    expect(field(r, 'dpkg-page')).toMatch(/^ii 1\.0/);
    expect(field(r, 'dpkg-tree')).toMatch(/^ii/);
    expect(field(r, 'tree-runs')).toBe('yes');
    expect(served).toContain(PAGE);
    const booted = guestStatus(r).deployments.find((d) => d.booted)!;
    expect(booted.checksum).toBe(layeredCommit);
    expect(booted.requested).toEqual(['nginx', 'tree']);
    expect(booted.layeredPackages).toEqual(expect.arrayContaining([expect.stringMatching(/^nginx=/), 'deblayer-test-page=1.0']));
    // usroverlay: /usr writable until the next boot, and status says so.
    expect(field(r, 'usroverlay-rc'), describeBoot(r)).toBe('0 Development mode: /usr is writable (an overlayfs) until the next boot, which discards what changed there.');
    expect(field(r, 'usr-written')).toBe('yes');
    expect(field(r, 'unlocked')).toBe('development (deblayer usroverlay: /usr is writable until the next boot)');
    expect(guestStatus(r, 'status-unlocked').deployments.find((d) => d.booted)).toMatchObject({ unlocked: 'development' });
    // apply-live wrote nginx's defaults into the base deployment's /etc: going back to it takes them back.
    expect(field(r, 'rollback-rc'), describeBoot(r)).toMatch(/^0 +\/etc: \d+ paths that apply-live had added or replaced there taken back$/);
  }, 1_200_000);

  test('after the rollback the base runs again: no web server, and deblayer status agrees; deblayer upgrade pulls a new base from the image\'s remote', async () => {
    // A new base on the branch the image follows, published where the guest's remote points.
    writeFileSync(join(tree, 'usr/share/deblayer-test-upgraded'), 'the second base\n');
    const reimported = await deblayer(['--repo', repo, '--json', 'base', 'import', tree, '-b', 'debian/trixie']);
    expect(reimported.exitCode, reimported.stderr).toBe(0);
    newBaseCommit = (JSON.parse(reimported.stdout) as { commit: string }).commit;
    rmSync(tree, { recursive: true, force: true });
    await execa('ostree', [`--repo=${published}`, 'pull-local', repo, 'debian/trixie']);
    const r = await boot({
      image,
      workDir: work,
      name: 'trixie-rolled-back',
      timeoutMs: BOOT_TIMEOUT * 2,
      memory: 2048,
      script: `${BOOT_REPORT}
echo "nginx-unit=$(systemctl list-unit-files nginx.service --no-legend | wc -l)"
echo "nginx-etc=$([ -e /etc/nginx ] && echo present || echo absent)"
echo "dpkg-nginx=$(dpkg-query -W -f='\${db:Status-Abbrev}' nginx 2>/dev/null || echo none)"
echo "usroverlay-file=$([ -e /usr/share/deblayer-usroverlay-test ] && echo present || echo gone)"
${STATUS}
deblayer upgrade -y
echo "upgrade-rc=$?"
${status('status-upgraded')}
deblayer apply-live > /tmp/live 2>&1
echo "live-rc=$? $(tail -n 1 /tmp/live)"
deblayer install -y --apply-live hello > /tmp/live-install 2>&1
echo "live-install-rc=$? $(tail -n 1 /tmp/live-install)"
echo "hello=$(command -v hello || echo none)"
`,
    });
    timings.bootRolledBack = r.seconds;
    expectCleanBoot(r);
    expect(field(r, 'first-deployment')).toBe(`${baseCommit}.0`);
    expect(field(r, 'nginx-unit')).toBe('0');
    expect(field(r, 'nginx-etc')).toBe('absent');
    expect(field(r, 'dpkg-nginx')).toBe('none');
    // What was written under the unlocked /usr went with the reboot; nothing is unlocked now.
    expect(field(r, 'usroverlay-file')).toBe('gone');
    expect(guestStatus(r).deployments.some((d) => d.unlocked !== undefined)).toBe(false);
    const deployments = guestStatus(r).deployments;
    expect(deployments[0]).toMatchObject({ checksum: baseCommit, booted: true, default: true, requested: [] });
    expect(deployments.some((d) => d.checksum === layeredCommit && !d.booted)).toBe(true);
    expect(field(r, 'upgrade-rc'), describeBoot(r)).toBe('0');
    expect(guestStatus(r, 'status-upgraded').deployments[0]).toMatchObject({ checksum: newBaseCommit, staged: true, baseRefspec: expect.stringMatching(/^os:debian\/trixie$/) });
    // A new base is not an addition: apply-live, and install --apply-live before it changes anything, refuse it.
    const refused = `cannot apply ${newBaseCommit.slice(0, 10)} live on the booted ${baseCommit.slice(0, 10)}: apply-live makes additions only, and its base is another commit (${baseCommit.slice(0, 10)} → ${newBaseCommit.slice(0, 10)}). It takes effect at the next boot`;
    expect(field(r, 'live-rc')).toBe(`1 deblayer: error: ${refused}`);
    expect(field(r, 'live-install-rc')).toBe(`1 deblayer: error: ${refused}`);
    expect(field(r, 'hello')).toBe('none');
  }, 900_000);

  test('the next boot runs the new base', async () => {
    expect(newBaseCommit).toBeDefined();
    const r = await boot({
      image,
      workDir: work,
      name: 'trixie-upgraded',
      timeoutMs: BOOT_TIMEOUT,
      memory: 2048,
      script: `${BOOT_REPORT}
echo "marker=$(cat /usr/share/deblayer-test-upgraded)"
${STATUS}
deblayer override remove -y curl > /tmp/override 2>&1
echo "override-rc=$? $(tail -n 1 /tmp/override)"
${status('status-overridden')}
`,
    });
    timings.bootUpgraded = r.seconds;
    timings.bootUpgradedUp = r.upAfter ?? -1;
    timings.bootUpgradedSystemd = field(r, 'startup') ?? '';
    expectCleanBoot(r);
    expect(field(r, 'first-deployment')).toBe(`${newBaseCommit}.0`);
    expect(field(r, 'marker')).toBe('the second base');
    expect(guestStatus(r).deployments[0]).toMatchObject({ checksum: newBaseCommit, booted: true, baseRefspec: 'os:debian/trixie' });
    // A base without curl for the next boot, to bring it back live in the one after.
    expect(field(r, 'override-rc'), describeBoot(r)).toMatch(/^0 /);
    const staged = guestStatus(r, 'status-overridden').deployments[0]!;
    expect(staged).toMatchObject({ staged: true, baseCommit: newBaseCommit, removedBasePackages: [expect.stringMatching(/^curl=/)] });
    overriddenCommit = staged.checksum;
  }, 900_000);

  test('a base package removed by override comes back without a reboot: override reset, then apply-live', async () => {
    expect(overriddenCommit).toBeDefined();
    const r = await boot({
      image,
      workDir: work,
      name: 'trixie-overridden',
      timeoutMs: BOOT_TIMEOUT * 2,
      memory: 2048,
      script: `${BOOT_REPORT}
echo "curl-before=$(command -v curl || echo none)"
echo "dpkg-before=$(dpkg-query -W -f='\${db:Status-Abbrev}' curl 2>/dev/null || echo none)"
deblayer override reset -y curl > /tmp/reset 2>&1
echo "reset-rc=$?"
deblayer apply-live > /tmp/live 2>&1
echo "live-rc=$? $(grep '^Applied' /tmp/live)"
echo "live-output=$(tr '\n' '|' < /tmp/live | tail -c 600)"
echo "curl-after=$(curl --version 2>&1 | head -n 1)"
echo "dpkg-after=$(dpkg-query -W -f='\${db:Status-Abbrev}' curl 2>/dev/null || echo none)"
${status('status-live')}
`,
    });
    timings.bootOverridden = r.seconds;
    expectCleanBoot(r);
    expect(field(r, 'first-deployment')).toBe(`${overriddenCommit}.0`);
    expect(field(r, 'curl-before')).toBe('none');
    expect(field(r, 'dpkg-before')).toBe('none');
    expect(field(r, 'reset-rc'), describeBoot(r)).toBe('0');
    // Bringing a base package back only adds files: apply-live takes it.
    expect(field(r, 'live-rc'), field(r, 'live-output')).toMatch(/^0 Applied [0-9a-f]{10} live: 1 package added \(curl=.+\)\.$/);
    expect(field(r, 'live-output')).not.toContain('warning');
    expect(field(r, 'curl-after')).toMatch(/^curl 8\./);
    expect(field(r, 'dpkg-after')).toMatch(/^ii/);
    const [next, booted] = guestStatus(r, 'status-live').deployments;
    expect(next).toMatchObject({ staged: true, baseCommit: newBaseCommit, removedBasePackages: [] });
    expect(booted).toMatchObject({ booted: true, checksum: overriddenCommit, liveCommit: next!.checksum });
  }, 900_000);
});
