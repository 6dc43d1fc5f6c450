// First boot on a fresh machine: what a deployment relies on when it boots
// with an empty /var and only the base's accounts in /etc (the commit made
// elsewhere, or this host's /etc before sysusers ran). Real services whose
// accounts come from postinsts (redis-server, postgresql: adduser) and from a
// package's own sysusers.d file (dbus: messagebus), and ssl-cert's snakeoil
// pair that postgresql's generated configuration uses, layered on the real
// base in an offline sysroot; then a throwaway copy of the deployment is
// brought up as systemd would: systemd-sysusers, systemd-tmpfiles --create
// --boot, deblayer's snakeoil unit, and postgres started on its cluster.
// On bookworm (these machines) and trixie (Debian's stable release, where
// dbus makes messagebus with systemd-sysusers, and postgres is 17).
// Needs deb.debian.org.

import { execa } from 'execa';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { deblayer } from './helpers/cli.js';
import { extractBootableBase, makeSysroot, type TestSysroot } from './helpers/sysroot.js';

for (const [suite, base] of [
  ['bookworm', inject('realBase')],
  ['trixie', inject('realBaseTrixie')],
] as const) {
  describe(suite, () => firstBoot(suite, base));
}

function firstBoot(suite: string, realBase: string): void {
  let work: string;
  let sysroot: TestSysroot;
  let cache: string;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), `deblayer-first-boot-${suite}-`));
    cache = join(work, 'cache');
    const repo = join(work, 'repo');
    const root = await extractBootableBase(realBase, join(work, 'bootable'));
    const imported = await deblayer(['--repo', repo, 'base', 'import', root, '-b', `debian/${suite}`]);
    expect(imported.exitCode, imported.stderr).toBe(0);
    rmSync(root, { recursive: true, force: true });
    sysroot = await makeSysroot(join(work, 'sysroot'), repo, 'debian', '3g');
    await sysroot.deploy(`debian/${suite}`);
    rmSync(repo, { recursive: true, force: true });
  }, 600_000);

  afterAll(async () => {
    for (const m of mounted.reverse()) await execa('umount', ['--lazy', m], { reject: false });
    await sysroot?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const run = (args: string[], global: string[] = []) => deblayer(['--sysroot', sysroot.path, '--cache-dir', cache, ...global, ...args]);

  const mounted: string[] = [];

  async function mount(args: string[], at: string): Promise<void> {
    await execa('mount', [...args, at]);
    mounted.push(at);
  }

  /**
   * A copy of DEPLOYMENT as a fresh machine boots it: its /etc as the commit
   * makes it (the base's accounts only: the sysroot never booted), an empty
   * /var, a fresh /run, /proc, /dev and a world-writable /dev/shm.
   */
  async function freshMachine(deployment: string, name: string): Promise<{ root: string; sh(cmd: string): Promise<{ exitCode: number; stdout: string; stderr: string }> }> {
    const root = join(work, name);
    await execa('cp', ['-a', deployment, root]);
    await mount(['-t', 'tmpfs', 'tmpfs'], join(root, 'var'));
    await mount(['-t', 'tmpfs', 'tmpfs'], join(root, 'run'));
    await mount(['-t', 'proc', 'proc'], join(root, 'proc'));
    await mount(['--bind', '/dev'], join(root, 'dev'));
    await mount(['-t', 'tmpfs', '-o', 'mode=1777', 'tmpfs'], join(root, 'dev/shm'));
    return {
      root,
      async sh(cmd: string) {
        const r = await execa('chroot', [root, 'sh', '-c', cmd], { reject: false, env: { LC_ALL: 'C', PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } });
        return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
      },
    };
  }

  /** name -> id of the u (or g) lines of a sysusers.d text. */
  function pinned(text: string, type: 'u' | 'g'): Map<string, number> {
    return new Map([...text.matchAll(new RegExp(`^${type} (\\S+) (\\d+)`, 'gm'))].map((m) => [m[1]!, Number(m[2])]));
  }

  const SYSUSERS = 'usr/lib/sysusers.d/00-deblayer.conf';

  describe(`a fresh machine boots what deblayer layered on ${suite}`, () => {
    let deployment: string;
    let layeredWith: string;
    /** PostgreSQL's major version in the base's release. */
    let pg: string;

    test('redis-server, postgresql and dbus: accounts from postinsts and from dbus.conf get the ids of the layering state, and every file made for them is theirs', async () => {
      const r = await run(['install', 'redis-server', 'postgresql', 'dbus'], ['--json']);
      expect(r.exitCode, r.stderr).toBe(0);
      deployment = JSON.parse(r.stdout).deployed.path as string;
      layeredWith = readFileSync(join(deployment, SYSUSERS), 'utf8');
      const users = pinned(layeredWith, 'u');
      for (const name of ['redis', 'postgres', 'messagebus']) expect(users.has(name), layeredWith).toBe(true);
      // dbus's own declaration of messagebus is overridden, not left to conflict.
      expect(readFileSync(join(deployment, 'usr/etc/sysusers.d/dbus.conf'), 'utf8')).toMatch(/^# u messagebus /m);
      // The factory copy of postgres's cluster carries the ids the lines pin.
      pg = readdirSync(join(deployment, 'usr/lib/postgresql'))[0]!;
    const pgVersion = join(deployment, `usr/share/factory/var/lib/postgresql/${pg}/main/PG_VERSION`);
      expect(lstatSync(pgVersion).uid).toBe(users.get('postgres'));

      const m = await freshMachine(deployment, 'boot-1');
      const sysusers = await m.sh('systemd-sysusers');
      expect(sysusers.exitCode, sysusers.stderr).toBe(0);
      // Not one line ignored, not one id given to another account.
      expect(sysusers.stderr + sysusers.stdout).not.toMatch(/Conflict with earlier configuration|already used/);
      for (const [name, id] of users) expect((await m.sh(`id -u ${name}`)).stdout, name).toBe(String(id));
      for (const [name, id] of pinned(layeredWith, 'g')) expect((await m.sh(`getent group ${name} | cut -d: -f3`)).stdout, name).toBe(String(id));

      const tmpfiles = await m.sh('systemd-tmpfiles --create --boot');
      expect(tmpfiles.stderr).not.toMatch(/unsafe path transition|deblayer-/);
      // Every file of postgres's cluster and of redis's state belongs to its service, by name.
      for (const [dir, owner] of [
        ['/var/lib/postgresql', '-user postgres'],
        ['/var/lib/redis', '-user redis'],
        // postgresql-common makes it root:postgres 1775, as on a mutable host.
        ['/var/log/postgresql', '-group postgres'],
      ] as const) {
        expect((await m.sh(`test -d ${dir} && echo yes`)).stdout, dir).toBe('yes');
        expect((await m.sh(`find ${dir} ! ${owner}`)).stdout, `${dir}: not ${owner}`).toBe('');
      }
      expect(Number((await m.sh('find /var/lib/postgresql | wc -l')).stdout)).toBeGreaterThan(500);

      // The snakeoil pair is not in the commit; deblayer's unit makes it before any service.
      for (const f of ['etc/ssl/private/ssl-cert-snakeoil.key', 'etc/ssl/certs/ssl-cert-snakeoil.pem']) {
        expect(existsSync(join(deployment, 'usr', f)), f).toBe(false);
        expect(existsSync(join(deployment, f)), f).toBe(false);
      }
      const unit = readFileSync(join(deployment, 'usr/lib/systemd/system/deblayer-ssl-cert-snakeoil.service'), 'utf8');
      expect(existsSync(join(deployment, 'usr/lib/systemd/system/sysinit.target.wants/deblayer-ssl-cert-snakeoil.service'))).toBe(true);
      const exec = /^ExecStart=(.*)$/m.exec(unit)![1]!;
      const made = await m.sh(exec);
      expect(made.exitCode, made.stderr).toBe(0);
      const certModulus = (await m.sh('openssl x509 -noout -modulus -in /etc/ssl/certs/ssl-cert-snakeoil.pem')).stdout;
      expect(certModulus).toMatch(/^Modulus=[0-9A-F]+$/);
      expect((await m.sh('openssl rsa -noout -modulus -in /etc/ssl/private/ssl-cert-snakeoil.key')).stdout).toBe(certModulus);
      expect((await m.sh('stat -c "%a %U %G" /etc/ssl/private/ssl-cert-snakeoil.key')).stdout).toBe('640 root ssl-cert');

      // postgres starts its cluster as user postgres (with ssl = on and that key) and answers.
      expect((await m.sh(`grep -E "^ssl = on" /etc/postgresql/${pg}/main/postgresql.conf`)).exitCode).toBe(0);
      const start = await m.sh(`pg_ctlcluster ${pg} main start`);
      try {
        expect(start.exitCode, start.stderr + (await m.sh(`tail -5 /var/log/postgresql/postgresql-${pg}-main.log`)).stdout).toBe(0);
        expect((await m.sh(`su postgres -c "psql -Atc 'show ssl'"`)).stdout).toBe('on');
        expect((await m.sh(`su postgres -c "psql -Atc 'select current_user'"`)).stdout).toBe('postgres');
      } finally {
        await m.sh(`pg_ctlcluster ${pg} main stop`);
      }
      // redis starts on its configuration as its own user (its log and data
      // directories are its own) and answers, on a socket of the test's.
      const sock = '/var/lib/redis/first-boot.sock';
      const redis = await m.sh(
        `su redis -s /bin/sh -c "redis-server /etc/redis/redis.conf --daemonize yes --supervised no --port 0 --unixsocket ${sock} --pidfile /var/lib/redis/first-boot.pid" && ` +
          `for i in $(seq 50); do [ -S ${sock} ] && break; sleep 0.1; done; redis-cli -s ${sock} ping`,
      );
      try {
        expect(redis.stdout, redis.stderr + (await m.sh('tail -5 /var/log/redis/redis-server.log')).stdout).toBe('PONG');
      } finally {
        await m.sh(`redis-cli -s ${sock} shutdown nosave`);
      }

      // A second fresh machine makes a key of its own.
      const other = await freshMachine(deployment, 'boot-2');
      // In the order boot runs them (the unit is ordered after both: make-ssl-cert needs debconf's /var/cache/debconf).
      const madeThere = await other.sh(`systemd-sysusers && { systemd-tmpfiles --create --boot >/dev/null 2>&1; ${exec}; }`);
      expect(madeThere.exitCode, madeThere.stdout + madeThere.stderr).toBe(0);
      expect((await other.sh('openssl rsa -noout -modulus -in /etc/ssl/private/ssl-cert-snakeoil.key')).stdout).not.toBe(certModulus);
    }, 600_000);

    test('the ids stay: a later install (another account, another configure order) and an uninstall keep every pinned id', async () => {
      const before = pinned(layeredWith, 'u');
      const chrony = await run(['install', 'chrony'], ['--json']);
      expect(chrony.exitCode, chrony.stderr).toBe(0);
      const second = readFileSync(join(JSON.parse(chrony.stdout).deployed.path as string, SYSUSERS), 'utf8');
      expect(pinned(second, 'u').has('_chrony')).toBe(true);
      for (const [name, id] of before) expect(pinned(second, 'u').get(name), name).toBe(id);
      // Taken away and brought back, redis is the same account.
      expect((await run(['uninstall', 'redis-server'])).exitCode).toBe(0);
      const again = await run(['install', 'redis-server'], ['--json']);
      expect(again.exitCode, again.stderr).toBe(0);
      const third = readFileSync(join(JSON.parse(again.stdout).deployed.path as string, SYSUSERS), 'utf8');
      for (const [name, id] of before) expect(pinned(third, 'u').get(name), name).toBe(id);
      expect(pinned(third, 'u').get('_chrony')).toBe(pinned(second, 'u').get('_chrony'));
      // After that many transactions with scripts, and an uninstall, rollback
      // works and says so (libostree's "Freed objects" once broke it), and the
      // layer database agrees.
      expect((await run(['uninstall', 'chrony'])).exitCode).toBe(0);
      const back = await run(['rollback']);
      expect(back.exitCode, back.stderr).toBe(0);
      const history = JSON.parse((await run(['history'], ['--json'])).stdout).entries as { command?: string; argv: string[]; result: string }[];
      expect(history.at(-1)).toMatchObject({ argv: expect.arrayContaining(['rollback']), result: 'ok' });
    }, 600_000);
  });
}
