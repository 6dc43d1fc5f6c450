// Maintainer scripts, triggers, users and services (issue 5), end to end with
// the real tools: fixture packages whose scripts add a system user, enable a
// unit, register an alternative, write /var state and a would-be secret, or
// fail on purpose, layered as local .deb files on the real debootstrapped
// base deployed in an offline sysroot (a tmpfs in the test run's private
// mount namespace); real dpkg configures them in real bwrap. Needs deb.debian.org
// (resolution uses the base's sources).

import { execa } from 'execa';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { buildPackage, type PackageSpec } from './helpers/apt-repo.js';
import { deblayer } from './helpers/cli.js';
import { extractBootableBase, makeSysroot, type TestSysroot } from './helpers/sysroot.js';
import { OstreeRepo } from '../src/exec/ostree.js';
import { runScripts } from '../src/scripts/run-scripts.js';

const realBase = inject('realBase');
let work: string;
let sysroot: TestSysroot;
let cache: string;
const debs: Record<string, string> = {};

const UNIT = '[Unit]\nDescription=deblayer fixture service\n[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n';

const SPECS: PackageSpec[] = [
  {
    Package: 'fx-svc',
    Version: '1.0',
    Architecture: 'all',
    files: { 'usr/lib/systemd/system/fx-svc.service': UNIT, 'etc/fx-svc.conf': 'listen = 1\n' },
    conffiles: ['/etc/fx-svc.conf'],
    control: {
      // The preinst adds a group, as some packages do before their files land; the postinst needs it.
      preinst: '#!/bin/sh\nset -e\necho "fx-svc preinst $1 ($DPKG_MAINTSCRIPT_NAME of $DPKG_MAINTSCRIPT_PACKAGE)"\naddgroup --quiet --system fxearly\n',
      postinst: `#!/bin/sh
set -e
if [ "$1" = configure ]; then
  getent group fxearly >/dev/null || { echo "the preinst's group is gone" >&2; exit 9; }
  adduser --quiet --system --group --home /var/lib/fx-svc --no-create-home fxdaemon
  mkdir -p /var/lib/fx-svc /var/log/fx-svc
  echo "state of $DPKG_MAINTSCRIPT_PACKAGE" > /var/lib/fx-svc/state
  echo "a log line" > /var/log/fx-svc/fx.log
  chown fxdaemon:fxdaemon /var/lib/fx-svc /var/lib/fx-svc/state
  chmod 0750 /var/lib/fx-svc
  deb-systemd-helper enable fx-svc.service
  mkdir -p /etc/ssh
  echo "not really a key" > /etc/ssh/ssh_host_fxtest_key
  mkdir -p /etc/ssl/private
  echo "not really a private key" > /etc/ssl/private/fx-svc.key
  # As mariadb-server's postinst does: a failure hidden from dpkg, told to syslog only.
  echo "could not frobnicate the widget" | logger -p daemon.err -t fx-svc.postinst
  echo "fx-svc configured"
fi
`,
    },
  },
  {
    Package: 'fx-alt',
    Version: '1.0',
    Architecture: 'all',
    files: { 'usr/bin/fx-alt-impl': '#!/bin/sh\necho fx-alt\n' },
    control: {
      postinst: '#!/bin/sh\nset -e\nif [ "$1" = configure ]; then update-alternatives --install /usr/bin/fx-editor fx-editor /usr/bin/fx-alt-impl 50; fi\n',
    },
  },
  {
    // A package that activates a trigger of a base package (libc-bin's ldconfig), as shared libraries do.
    Package: 'fx-trig',
    Version: '1.0',
    Architecture: 'all',
    control: { triggers: 'activate-noawait ldconfig\n' },
  },
  {
    Package: 'fx-fail',
    Version: '1.0',
    Architecture: 'all',
    control: { postinst: '#!/bin/sh\necho "about to fail"\necho "cannot frobnicate" >&2\nexit 7\n' },
  },
  {
    // As polkitd: it ships /var/lib/fx-own, its own tmpfiles.d line gives it to the account its
    // postinst creates, and the postinst chowns it, expecting it there as dpkg unpacked it.
    Package: 'fx-own',
    Version: '1.0',
    Architecture: 'all',
    files: { 'usr/lib/tmpfiles.d/fx-own.conf': 'd /var/lib/fx-own 0700 fxown root - -\n' },
    dirs: { 'var/lib/fx-own': '755:0:0' },
    control: {
      postinst: '#!/bin/sh\nset -e\nif [ "$1" = configure ]; then\n  adduser --quiet --system --group --home /nonexistent --no-create-home fxown\n  chown fxown:root /var/lib/fx-own\n  chmod 700 /var/lib/fx-own\nfi\n',
    },
  },
  {
    // As sgml-base: its preinst makes a directory in /etc that its postinst fills. Its preinst also
    // writes over a file the package ships, which the unpack then replaces.
    Package: 'fx-etc',
    Version: '1.0',
    Architecture: 'all',
    files: { 'etc/fx-etc/shipped.conf': 'as shipped\n' },
    conffiles: ['/etc/fx-etc/shipped.conf'],
    control: {
      preinst: '#!/bin/sh\nset -e\nif [ "$1" = install ]; then\n  mkdir -p /etc/fx-etc.d /etc/fx-etc\n  echo "from the preinst" > /etc/fx-etc.d/seed\n  echo "from the preinst" > /etc/fx-etc/shipped.conf\nfi\n',
      postinst: '#!/bin/sh\nset -e\nif [ "$1" = configure ]; then\n  cp /etc/fx-etc.d/seed /etc/fx-etc.d/copied\n  ln -sf /etc/fx-etc.d/copied /etc/fx-etc.d/link\nfi\n',
    },
  },
];

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'deblayer-maintscripts-'));
  cache = join(work, 'cache');
  const repo = join(work, 'repo');
  // The real base with a stand-in kernel, so that ostree admin deploy accepts it.
  const root = await extractBootableBase(realBase, join(work, 'bootable'));
  const imported = await deblayer(['--repo', repo, 'base', 'import', root, '-b', 'debian/12']);
  expect(imported.exitCode, imported.stderr).toBe(0);
  rmSync(root, { recursive: true, force: true });
  const out = join(work, 'debs');
  mkdirSync(out);
  for (const spec of SPECS) debs[spec.Package] = await buildPackage(spec, out);
  sysroot = await makeSysroot(join(work, 'sysroot'), repo, 'debian', '1g');
  await sysroot.deploy('debian/12');
  rmSync(repo, { recursive: true, force: true });
}, 600_000);

afterAll(async () => {
  await sysroot?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

const run = (args: string[], global: string[] = []) => deblayer(['--sysroot', sysroot.path, '--cache-dir', cache, ...global, ...args]);

async function deployments(): Promise<string[]> {
  const status = await execa('ostree', ['admin', 'status', `--sysroot=${sysroot.path}`], { env: { LC_ALL: 'C' } });
  return [...status.stdout.matchAll(/^[* ] debian ([0-9a-f]{64}\.\d+)/gm)].map((m) => join(sysroot.path, 'ostree/deploy/debian/deploy', m[1]!));
}

describe('maintainer scripts', () => {
  let deployed: string;
  let stderr: string;

  test('run in the sandbox: the deployment has the users, the enabled unit, the alternative and the /var state', async () => {
    const start = Date.now();
    const r = await run(['install', debs['fx-svc']!, debs['fx-alt']!, debs['fx-trig']!], ['--verbose', '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    console.log(`install of 3 packages with scripts: ${((Date.now() - start) / 1000).toFixed(1)} s; ${r.stderr.split('\n').filter((l) => /^  \w+: [\d.]+ s$/.test(l)).join(',')}`);
    stderr = r.stderr;
    deployed = JSON.parse(r.stdout).deployed.path;
    const usr = (p: string) => join(deployed, 'usr', p);

    // The scripts ran, in dpkg's way: preinst install first, triggers of the base processed.
    expect(stderr).toContain('fx-svc preinst install (preinst of fx-svc)');
    expect(stderr).toContain('fx-svc configured');
    expect(stderr).toMatch(/Processing triggers for libc-bin/);
    // A secret deblayer has no generator for: said plainly, with the package that made it.
    expect(stderr).toMatch(
      /^Left out of the commit: \/etc\/ssl\/private\/fx-svc\.key \(a private key\), made by the scripts of fx-svc; deblayer cannot make it again, so hosts booted from this commit have none/m,
    );
    expect(existsSync(usr('etc/ssl/private/fx-svc.key'))).toBe(false);
    // What a script told syslog (and dpkg never saw) reaches the user.
    expect(stderr).toMatch(/^fx-svc\.postinst logged a line at priority err or worse to syslog, the last \(err\): could not frobnicate the widget \(deblayer history --verbose shows them\)$/m);
    expect((await run(['history'], ['--verbose'])).stdout).toMatch(/^    fx-svc \(syslog\):\n      could not frobnicate the widget$/m);

    // Users: a sysusers.d fragment; the host's own passwd is not touched.
    const sysusers = readFileSync(usr('lib/sysusers.d/00-deblayer.conf'), 'utf8');
    expect(sysusers).toMatch(/^g fxdaemon \d+$/m);
    expect(sysusers).toMatch(/^g fxearly \d+$/m);
    expect(sysusers).toMatch(/^u fxdaemon \d+:fxdaemon - \/var\/lib\/fx-svc \/usr\/sbin\/nologin$/m);
    expect(readFileSync(join(deployed, 'etc/passwd'), 'utf8')).not.toContain('fxdaemon');
    expect(readFileSync(usr('etc/passwd'), 'utf8')).not.toContain('fxdaemon');

    // The unit is enabled: its symlink reaches the deployment's /etc through the merge.
    expect(readlinkSync(join(deployed, 'etc/systemd/system/multi-user.target.wants/fx-svc.service'))).toMatch(/\/systemd\/system\/fx-svc\.service$/);

    // The alternative: links in place, and update-alternatives agrees in the deployment.
    expect(readlinkSync(usr('bin/fx-editor'))).toBe('/etc/alternatives/fx-editor');
    expect(readlinkSync(join(deployed, 'etc/alternatives/fx-editor'))).toBe('/usr/bin/fx-alt-impl');
    const display = await execa('chroot', [deployed, 'update-alternatives', '--admindir', '/usr/lib/sysimage/dpkg/alternatives', '--display', 'fx-editor'], {
      env: { LC_ALL: 'C' },
    });
    expect(display.stdout).toMatch(/link currently points to \/usr\/bin\/fx-alt-impl/);

    // /var state: tmpfiles.d lines and factory copies; logs left to the host.
    const tmpfiles = readFileSync(usr('lib/tmpfiles.d/deblayer-00-scripts.conf'), 'utf8');
    expect(tmpfiles).toMatch(/^d \/var\/lib\/fx-svc 0750 fxdaemon fxdaemon -$/m);
    // One line: C sets the owner and mode itself (a z line for a root-owned file there was an unsafe path transition).
    expect(tmpfiles).toMatch(/^C \/var\/lib\/fx-svc\/state 0644 fxdaemon fxdaemon - \/usr\/share\/factory\/var\/lib\/fx-svc\/state$/m);
    expect(tmpfiles).not.toMatch(/^z /m);
    expect(tmpfiles).toMatch(/^d \/var\/log\/fx-svc 0755 root root -$/m);
    expect(tmpfiles).not.toContain('fx.log');
    expect(readFileSync(usr('share/factory/var/lib/fx-svc/state'), 'utf8')).toBe('state of fx-svc\n');

    // A secret is left out, and the user told.
    expect(stderr).toContain('Left out of the commit: /etc/ssh/ssh_host_fxtest_key (an SSH host key)');
    expect(existsSync(usr('etc/ssh/ssh_host_fxtest_key'))).toBe(false);
    expect(existsSync(join(deployed, 'etc/ssh/ssh_host_fxtest_key'))).toBe(false);
    // The host makes its SSH host keys: a unit that runs ssh-keygen -A before ssh.service.
    expect(readFileSync(usr('lib/systemd/system/deblayer-ssh-host-keys.service'), 'utf8')).toContain('ExecStart=/usr/bin/ssh-keygen -A');
    expect(readFileSync(usr('lib/systemd/system/ssh.service.d/deblayer-host-keys.conf'), 'utf8')).toContain('Wants=deblayer-ssh-host-keys.service');
    // No policy-rc.d left behind, no mount left in this namespace, no scratch directory left.
    expect(existsSync(usr('sbin/policy-rc.d'))).toBe(false);
    expect(readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => / - overlay /.test(l) || l.includes('deblayer-scripts-'))).toEqual([]);
    expect(readdirSync(join(sysroot.path, 'ostree/repo/tmp')).filter((n) => n.startsWith('deblayer-'))).toEqual([]);

    // dpkg: everything configured, nothing to audit.
    const admindir = usr('lib/sysimage/dpkg');
    const q = await execa('dpkg-query', [`--admindir=${admindir}`, '-W', '-f', '${Package} ${db:Status-Abbrev}\n', 'fx-svc', 'fx-alt', 'fx-trig']);
    expect(q.stdout.split('\n').sort()).toEqual(['fx-alt ii ', 'fx-svc ii ', 'fx-trig ii ']);
    const audit = await execa('dpkg', [`--admindir=${admindir}`, '--audit'], { reject: false });
    expect(audit.stdout + audit.stderr).toBe('');
    const check = await execa('chroot', [deployed, 'apt-get', '-o', 'Dir::State::status=/usr/lib/sysimage/dpkg/status', 'check'], { reject: false, env: { LC_ALL: 'C' } });
    expect(check.exitCode, check.stdout + check.stderr).toBe(0);
    // The conffile's hash is its content's: dpkg --verify finds nothing changed.
    expect(readFileSync(join(admindir, 'status'), 'utf8')).toMatch(/^ \/etc\/fx-svc\.conf [0-9a-f]{32}$/m);
    const verify = await execa('dpkg', [`--root=${deployed}`, `--admindir=${admindir}`, '--verify', 'fx-svc', 'fx-alt'], { reject: false });
    expect(verify.stdout + verify.stderr).toBe('');
    await execa('ostree', ['fsck', `--repo=${join(sysroot.path, 'ostree/repo')}`, '--quiet']);
  }, 600_000);

  test('a failing postinst stops the transaction with one line naming it, and deploys nothing', async () => {
    const before = await deployments();
    const r = await run(['install', debs['fx-fail']!]);
    expect(r.exitCode).toBe(1);
    const last = r.stderr.trim().split('\n').pop()!;
    expect(last).toMatch(/^deblayer: error: package fx-fail: its postinst script failed with exit status 7: about to fail \/ cannot frobnicate \(nothing was deployed;/);
    expect(await deployments()).toEqual(before);
    await execa('ostree', ['fsck', `--repo=${join(sysroot.path, 'ostree/repo')}`, '--quiet']);
    // Nor anything the failed transaction committed (the package cache aside, which has refs).
    const prune = await execa('ostree', ['prune', `--repo=${join(sysroot.path, 'ostree/repo')}`, '--refs-only', '--no-prune']);
    expect(prune.stdout).toMatch(/^No unreachable objects$/m);
    const history = JSON.parse((await run(['history'], ['--json'])).stdout).entries as { result: string; error?: string }[];
    expect(history.at(-1)).toMatchObject({ result: 'failed' });
    expect(history.at(-1)!.error).toMatch(/^package fx-fail: its postinst script failed with exit status 7/);
    // The scripts' output is in the transaction log, the failed transaction's too.
    const verbose = await run(['history'], ['--verbose']);
    expect(verbose.stdout).toMatch(/^    fx-fail \(configure\):\n      Setting up fx-fail \(1\.0\) \.\.\.\n      about to fail\n      cannot frobnicate$/m);
    expect(verbose.stdout).toMatch(/^    fx-svc \(preinst\):\n      fx-svc preinst install \(preinst of fx-svc\)$/m);
    // Nor a work tree in the repository's tmp/: neither from the failed install, nor from a view that fails half made.
    const repoPath = join(sysroot.path, 'ostree/repo');
    const staging = () => readdirSync(join(repoPath, 'tmp')).filter((n) => n.startsWith('deblayer-'));
    expect(staging()).toEqual([]);
    const base = (await execa('ostree', [`--repo=${repoPath}`, 'rev-parse', 'debian/12'])).stdout.trim();
    const missing = '0'.repeat(64);
    const input = { repo: new OstreeRepo(repoPath), composed: missing, base, database: 'usr/lib/sysimage/dpkg', records: [], skip: [], branch: 'test/none', subject: 'none', metadata: {} };
    await expect(runScripts(input)).rejects.toThrow(new RegExp(missing));
    expect(staging()).toEqual([]);
  }, 600_000);

  test('--skip-scripts layers a package without running its scripts, kept in the origin and the database', async () => {
    const r = await run(['install', '--skip-scripts', 'fx-fail', debs['fx-fail']!], ['--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    const path = JSON.parse(r.stdout).deployed.path as string;
    expect(readFileSync(`${path}.origin`, 'utf8')).toMatch(/^skip-scripts=fx-fail;$/m);
    const admindir = join(path, 'usr/lib/sysimage/dpkg');
    const q = await execa('dpkg-query', [`--admindir=${admindir}`, '-W', '-f', '${Package} ${db:Status-Abbrev}\n', 'fx-fail', 'fx-svc']);
    expect(q.stdout.split('\n').sort()).toEqual(['fx-fail ii ', 'fx-svc ii ']);
    // Its own postinst stays in the database as shipped.
    expect(readFileSync(join(admindir, 'info/fx-fail.postinst'), 'utf8')).toContain('exit 7');
    // The other packages were configured again on the recomposition: their user is still declared.
    expect(readFileSync(join(path, 'usr/lib/sysusers.d/00-deblayer.conf'), 'utf8')).toMatch(/^u fxdaemon /m);
    const history = JSON.parse((await run(['history'], ['--json'])).stdout).entries as { state?: { skipScripts: string[] } }[];
    expect(history.at(-1)!.state!.skipScripts).toEqual(['fx-fail']);
    // A --skip-scripts name that is not in the transaction is a usage error.
    const bad = await run(['install', '--skip-scripts', 'fx-nothing', debs['fx-fail']!]);
    expect(bad.exitCode).toBe(2);
    // Uninstalling the package drops the setting.
    const u = await run(['uninstall', 'fx-fail'], ['--json']);
    expect(u.exitCode, u.stderr).toBe(0);
    expect(readFileSync(`${JSON.parse(u.stdout).deployed.path}.origin`, 'utf8')).not.toContain('skip-scripts');
  }, 600_000);

  test('a /var directory a package ships and declares for the account its postinst makes is there for the postinst (polkitd)', async () => {
    const r = await run(['install', debs['fx-own']!], ['--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    const path = JSON.parse(r.stdout).deployed.path as string;
    expect(readFileSync(join(path, 'usr/lib/sysusers.d/00-deblayer.conf'), 'utf8')).toMatch(/^u fxown /m);
    // At boot the package's own line makes it once sysusers has made the account; no other line names it.
    const dir = join(path, 'usr/lib/tmpfiles.d');
    const lines = readdirSync(dir).flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n')).filter((l) => l.split(/\s+/)[1] === '/var/lib/fx-own');
    expect(lines).toEqual(['d /var/lib/fx-own 0700 fxown root - -']);
  }, 600_000);

  test('what a preinst makes in /etc stays for its postinst, and a file the package ships is the package\'s (sgml-base)', async () => {
    const r = await run(['install', debs['fx-etc']!], ['--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    const etc = join(JSON.parse(r.stdout).deployed.path as string, 'usr/etc');
    expect(readFileSync(join(etc, 'fx-etc.d/seed'), 'utf8')).toBe('from the preinst\n');
    expect(readFileSync(join(etc, 'fx-etc.d/copied'), 'utf8')).toBe('from the preinst\n');
    expect(readlinkSync(join(etc, 'fx-etc.d/link'))).toBe('/etc/fx-etc.d/copied');
    expect(readFileSync(join(etc, 'fx-etc/shipped.conf'), 'utf8')).toBe('as shipped\n');
  }, 600_000);
});

describe('real packages from the Debian archive', () => {
  let nginxDeployment: string;

  test('nginx-light and openssh-server: users, enabled units, /var directories, no host key in the commit', async () => {
    const start = Date.now();
    const r = await run(['install', 'nginx-light', 'openssh-server'], ['--verbose', '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    console.log(`install of nginx-light openssh-server: ${((Date.now() - start) / 1000).toFixed(1)} s; ${r.stderr.split('\n').filter((l) => /^  \w+: [\d.]+ s$/.test(l)).join(',')}`);
    const path = JSON.parse(r.stdout).deployed.path as string;
    const usr = (p: string) => join(path, 'usr', p);
    const sysusers = readFileSync(usr('lib/sysusers.d/00-deblayer.conf'), 'utf8');
    expect(sysusers).toMatch(/^u sshd \d+:nogroup - \/run\/sshd \/usr\/sbin\/nologin$/m);
    expect(sysusers).toMatch(/^g _ssh \d+$/m);
    // www-data comes with the base: no line for it.
    expect(sysusers).not.toMatch(/www-data/);
    for (const unit of ['nginx.service', 'ssh.service']) {
      expect(readlinkSync(join(path, 'etc/systemd/system/multi-user.target.wants', unit))).toMatch(new RegExp(`/${unit.replace('.', '\\.')}$`));
    }
    // No host key anywhere in the commit or the new deployment's /etc; the user is told.
    expect(readdirSync(usr('etc/ssh')).filter((n) => n.startsWith('ssh_host_'))).toEqual([]);
    expect(readdirSync(join(path, 'etc/ssh')).filter((n) => n.startsWith('ssh_host_'))).toEqual([]);
    expect(r.stderr).toMatch(/Left out of the commit: \/etc\/ssh\/ssh_host_ed25519_key \(an SSH host key\)/);
    // nginx's /var: what its scripts made is recreated at boot.
    const tmpfiles = readFileSync(usr('lib/tmpfiles.d/deblayer-00-scripts.conf'), 'utf8');
    expect(tmpfiles).toMatch(/^C \/var\/www\/html\/index\.nginx-debian\.html 0644 root root - /m);
    expect(tmpfiles).toMatch(/^d \/var\/log\/nginx \d+ \S+ adm -$/m);
    // dpkg and apt agree that everything is installed and consistent.
    const admindir = usr('lib/sysimage/dpkg');
    const audit = await execa('dpkg', [`--admindir=${admindir}`, '--audit'], { reject: false });
    expect(audit.stdout + audit.stderr).toBe('');
    const check = await execa('chroot', [path, 'apt-get', '-o', 'Dir::State::status=/usr/lib/sysimage/dpkg/status', 'check'], { reject: false, env: { LC_ALL: 'C' } });
    expect(check.exitCode, check.stdout + check.stderr).toBe(0);
    // Every file and conffile as dpkg recorded it (what lives in /var comes at boot).
    const verify = await execa('dpkg', [`--root=${path}`, `--admindir=${admindir}`, '--verify', 'nginx-common', 'nginx-light', 'openssh-server', 'openssh-client'], { reject: false });
    expect((verify.stdout + verify.stderr).split('\n').filter((l) => l !== '' && !/ \/var\//.test(l))).toEqual([]);
    await execa('ostree', ['fsck', `--repo=${join(sysroot.path, 'ostree/repo')}`, '--quiet']);
    // Nothing the transaction wrote is left unreachable (the commit before the
    // scripts is the state's parent): libostree's prune after a reorder has
    // nothing to free, and nothing to print.
    const prune = await execa('ostree', ['prune', `--repo=${join(sysroot.path, 'ostree/repo')}`, '--refs-only', '--no-prune']);
    expect(prune.stdout).toMatch(/^No unreachable objects$/m);
    nginxDeployment = path;
  }, 600_000);

  test('the deployment brought up as at boot: sysusers and tmpfiles apply cleanly, nginx and sshd accept their configuration', async () => {
    // A throwaway copy of the deployment, where systemd-sysusers and
    // systemd-tmpfiles do what they do at boot (the stateroot's /var is empty
    // on an offline sysroot, as on a new host).
    const root = join(work, 'booted');
    await execa('cp', ['-a', nginxDeployment, root]);
    await execa('mount', ['-t', 'proc', 'proc', join(root, 'proc')]);
    try {
      const inRoot = (cmd: string) => execa('chroot', [root, 'sh', '-c', cmd], { reject: false, env: { LC_ALL: 'C', PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } });
      const sysusers = await inRoot('systemd-sysusers');
      expect(sysusers.exitCode, sysusers.stderr).toBe(0);
      const tmpfiles = await inRoot('systemd-tmpfiles --create --prefix=/var');
      // No line repeats what the base's var.conf declares (the /var skeleton is
      // left to it), nor what another layered package's own tmpfiles.d
      // declares (dbus ships /var/lib/dbus, dbus-daemon's dbus.conf declares it).
      expect(tmpfiles.stderr).not.toMatch(/unsafe path transition|deblayer-00-scripts\.conf/);
      expect(tmpfiles.stderr.split('\n').filter((l) => /Duplicate line/.test(l))).toEqual([]);
      expect(readFileSync(join(root, 'usr/lib/tmpfiles.d/deblayer-dbus.conf'), 'utf8')).not.toMatch(/ \/var\/lib\/dbus /);
      expect((await inRoot('id -un sshd; id -un fxdaemon')).stdout).toBe('sshd\nfxdaemon');
      expect((await inRoot('stat -c "%a %U %G" /var/lib/fx-svc /var/lib/fx-svc/state')).stdout).toBe('750 fxdaemon fxdaemon\n644 fxdaemon fxdaemon');
      expect((await inRoot('cat /var/lib/fx-svc/state')).stdout).toBe('state of fx-svc');
      expect((await inRoot('test -s /var/www/html/index.nginx-debian.html && echo ok')).stdout).toBe('ok');
      const nginx = await inRoot('nginx -t');
      expect(nginx.exitCode, nginx.stderr).toBe(0);
      // What deblayer-ssh-host-keys.service runs, then ssh.service's own check.
      const sshd = await inRoot('ssh-keygen -A && mkdir -p /run/sshd && sshd -t');
      expect(sshd.exitCode, sshd.stderr).toBe(0);
      const audit = await inRoot('dpkg --admindir=/usr/lib/sysimage/dpkg --audit');
      expect(audit.stdout + audit.stderr).toBe('');
    } finally {
      await execa('umount', [join(root, 'proc')], { reject: false });
    }
  }, 600_000);


  test('cron, vim, ca-certificates, curl and man-db: setgid spool, alternatives, the certificate bundle, the man-db index', async () => {
    const start = Date.now();
    const r = await run(['install', 'cron', 'vim', 'ca-certificates', 'curl', 'man-db'], ['--verbose', '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    console.log(`install of cron vim ca-certificates curl man-db (with the earlier ones): ${((Date.now() - start) / 1000).toFixed(1)} s; ${r.stderr.split('\n').filter((l) => /^  \w+: [\d.]+ s$/.test(l)).join(',')}`);
    const path = JSON.parse(r.stdout).deployed.path as string;
    const usr = (p: string) => join(path, 'usr', p);
    const inDeployment = (cmd: string) => execa('chroot', [path, 'sh', '-c', cmd], { reject: false, env: { LC_ALL: 'C', PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } });
    // cron: its group, the setgid crontab, and the spool directory's mode kept for boot.
    const sysusers = readFileSync(usr('lib/sysusers.d/00-deblayer.conf'), 'utf8');
    const gid = /^g crontab (\d+)$/m.exec(sysusers)?.[1];
    expect(gid, sysusers).toBeDefined();
    expect((await inDeployment('stat -c "%a %u %g" /usr/bin/crontab')).stdout).toBe(`2755 0 ${gid}`);
    expect(readFileSync(usr('lib/tmpfiles.d/deblayer-00-scripts.conf'), 'utf8')).toMatch(/^d \/var\/spool\/cron\/crontabs 1730 root crontab -$/m);
    // vim: the editor and vi alternatives, and update-alternatives agrees in the deployment.
    for (const name of ['editor', 'vi']) {
      expect(readlinkSync(join(path, 'etc/alternatives', name))).toBe('/usr/bin/vim.basic');
      expect((await inDeployment(`update-alternatives --admindir /usr/lib/sysimage/dpkg/alternatives --display ${name}`)).stdout).toMatch(
        /link currently points to \/usr\/bin\/vim\.basic/,
      );
    }
    expect((await inDeployment('editor --version')).stdout).toMatch(/^VIM - Vi IMproved 9\./);
    // ca-certificates: the bundle its trigger builds; curl runs.
    const bundle = readFileSync(join(path, 'etc/ssl/certs/ca-certificates.crt'), 'utf8');
    expect(bundle.split('BEGIN CERTIFICATE').length).toBeGreaterThan(100);
    expect((await inDeployment('curl --version')).stdout).toMatch(/^curl 7\./);
    // man-db: the index its postinst and trigger build knows the layered pages,
    // in the deployment with a /var made from its tmpfiles.d lines (as on a new host).
    expect(r.stderr).toMatch(/Building database of manual pages/);
    const whatis = await execa(
      'unshare',
      ['--mount', '--propagation', 'private', 'sh', '-c', `mount -t tmpfs tmpfs "$1/var" && { systemd-tmpfiles --root="$1" --create --prefix=/var >/dev/null 2>&1; chroot "$1" whatis cron crontab vim; }`, 'sh', path],
      { reject: false, env: { LC_ALL: 'C', PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } },
    );
    expect(whatis.stdout, whatis.stderr).toMatch(/^cron \(8\) +- daemon to execute scheduled commands/m);
    expect(whatis.stdout).toMatch(/^crontab \(1\) +- /m);
    expect(whatis.stdout).toMatch(/^vim \(1\) +- /m);
    const audit = await inDeployment('dpkg --admindir=/usr/lib/sysimage/dpkg --audit');
    expect(audit.stdout + audit.stderr).toBe('');
    const check = await inDeployment('apt-get -o Dir::State::status=/usr/lib/sysimage/dpkg/status check');
    expect(check.exitCode, check.stdout + check.stderr).toBe(0);
    await execa('ostree', ['fsck', `--repo=${join(sysroot.path, 'ostree/repo')}`, '--quiet']);
  }, 600_000);
});
