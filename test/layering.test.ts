// install end to end on offline sysroots (tmpfs in the test run's private
// mount namespace): package cache, composition, dpkg database, origin and
// deployment, checked with ostree, dpkg-query and dpkg --verify.
//
// Each test makes the sysroot it starts from (site(): the fixture base
// deployed, then the transactions it names), so that a test fails for its own
// reason only and runs alone (-t). The base is imported once, into a
// repository the sites pull from and never change.

import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, onTestFinished, test } from 'vitest';
import { buildFixtureWorld, buildPackage, fixtureSources, publishSigned, type FixtureWorld } from './helpers/apt-repo.js';
import { CLI, deblayer, type CliResult } from './helpers/cli.js';
import { arOf } from './helpers/craft.js';
import { serveDirectory } from './helpers/http-repo.js';
import { makeSysroot } from './helpers/sysroot.js';

let dir: string;
let world: FixtureWorld;
let repo: string;
let baseCommit: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'deblayer-layering-'));
  world = await buildFixtureWorld(join(dir, 'world'), inject('fixtures').kernel!.xz!);
  repo = join(dir, 'repo');
  const r = await deblayer(['--repo', repo, '--json', 'base', 'import', world.rootfs, '-b', 'fx/base']);
  expect(r.exitCode, r.stderr).toBe(0);
  baseCommit = JSON.parse(r.stdout).commit;
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function ostreeAt(args: string[]): Promise<string> {
  return (await execa('ostree', args, { env: { LC_ALL: 'C' } })).stdout;
}

async function installed(deployment: string): Promise<string[]> {
  const r = await execa('dpkg-query', [`--admindir=${deployment}/usr/lib/sysimage/dpkg`, '-W', '-f', '${Package}=${Version} ${db:Status-Abbrev}\n']);
  return r.stdout.split('\n').sort();
}

async function dpkgVerify(deployment: string, packages: string[]): Promise<string> {
  const r = await execa('dpkg', [`--root=${deployment}`, `--admindir=${deployment}/usr/lib/sysimage/dpkg`, '--verify', ...packages], { reject: false });
  return (r.stdout + r.stderr).trim();
}

/** A sysroot of one test, with its deblayer cache. */
interface Site {
  path: string;
  cache: string;
  /** The sysroot's repository. */
  repo: string;
  /** The layer database of the stateroot. */
  db: string;
  run(args: string[], global?: string[]): Promise<CliResult>;
  deployments(): Promise<{ checksum: string; path: string; origin: string }[]>;
  /** Deployments and refs: what a transaction that fails must leave as it was. */
  state(): Promise<{ deployments: { checksum: string; path: string; origin: string }[]; refs: string[] }>;
  close(): Promise<void>;
}

let sites = 0;

/**
 * A sysroot of the running test, closed when it ends: the fixture base
 * deployed, then SETUP run in it, each a deblayer command that must succeed.
 */
async function site(...setup: string[][]): Promise<Site> {
  const home = join(dir, `site-${++sites}`);
  const sysroot = await makeSysroot(join(home, 'sysroot'), repo);
  const cache = join(home, 'cache');
  const deployments = async () => {
    const base = join(sysroot.path, 'ostree/deploy/fx/deploy');
    const status = await ostreeAt(['admin', 'status', `--sysroot=${sysroot.path}`]);
    return [...status.matchAll(/^[* ] fx ([0-9a-f]{64})\.(\d+)/gm)].map((m) => ({
      checksum: m[1]!,
      path: join(base, `${m[1]}.${m[2]}`),
      origin: readFileSync(join(base, `${m[1]}.${m[2]}.origin`), 'utf8'),
    }));
  };
  const site: Site = {
    path: sysroot.path,
    cache,
    repo: join(sysroot.path, 'ostree/repo'),
    db: join(sysroot.path, 'ostree/deploy/fx/var/lib/deblayer/layers.db'),
    run: (args, global = []) => deblayer(['--sysroot', sysroot.path, '--cache-dir', cache, ...global, ...args]),
    deployments,
    state: async () => ({ deployments: await deployments(), refs: (await ostreeAt([`--repo=${join(sysroot.path, 'ostree/repo')}`, 'refs'])).split('\n').sort() }),
    close: async () => {
      await sysroot.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
  try {
    await sysroot.deploy('fx/base');
    for (const args of setup) {
      const r = await site.run(args);
      if (r.exitCode !== 0) throw new Error(`setting up the sysroot: deblayer ${args.join(' ')} exited with ${r.exitCode}: ${r.stderr}`);
    }
  } catch (err) {
    await site.close();
    throw err;
  }
  onTestFinished(() => site.close());
  return site;
}

const withApp = ['install', 'fx-app'];

describe('install', () => {
  test('layers the packages and their dependencies onto the base, as a new default deployment', async () => {
    const s = await site();
    const before = await s.deployments();
    expect(before).toHaveLength(1);
    // No layer database yet: status is ostree's alone, without a word about it.
    const plain = await s.run(['status'], ['--json']);
    expect(plain.exitCode, plain.stderr).toBe(0);
    expect(plain.stderr).toBe('');
    expect(JSON.parse(plain.stdout).deployments[0]).not.toHaveProperty('state');
    const r = await s.run(['install', 'fx-app'], ['--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.deployed.staged).toBe(false);

    const after = await s.deployments();
    expect(after).toHaveLength(2);
    const [layered, previous] = after;
    expect(previous!.checksum).toBe(before[0]!.checksum);
    expect(layered!.checksum).toBe(result.deployed.commit);
    expect(layered!.path).toBe(result.deployed.path);

    // The commit: parent = base, metadata naming the packages.
    const log = await ostreeAt([`--repo=${s.repo}`, 'rev-parse', `${layered!.checksum}^`]);
    expect(log.trim()).toBe(baseCommit);
    // The packages' files are in the deployment, and dpkg sees them installed.
    expect(readFileSync(join(layered!.path, 'usr/share/doc/fx-app/marker'), 'utf8')).toBe('fx-app 1.0\n');
    expect(await installed(layered!.path)).toEqual([
      'deblayer-fixture-kernel=6.1.0-99 ii ',
      'fx-app=1.0 ii ',
      'fx-base-files=1.0 ii ',
      'fx-basepkg=1.0 ii ',
      'fx-extra=1.0 ii ',
      'fx-lib=1.2 ii ',
    ]);
    // dpkg --verify of the layered packages (the base's /var and /boot entries
    // only exist once the deployment has booted and systemd-tmpfiles has run).
    const verify = await dpkgVerify(layered!.path, ['fx-app', 'fx-lib', 'fx-extra']);
    expect(verify).toBe('');
    expect(readFileSync(join(layered!.path, 'usr/lib/sysimage/dpkg/info/fx-app.list'), 'utf8')).toContain('/usr/share/doc/fx-app/marker\n');
    // Control fields that are not ASCII survive (ostree is given them in a UTF-8 locale whatever the user's).
    const maintainer = await execa('dpkg-query', [`--admindir=${layered!.path}/usr/lib/sysimage/dpkg`, '-W', '-f', '${Maintainer}', 'fx-app']);
    expect(maintainer.stdout).toBe('Tëst Ünïcode <tests@deblayer.invalid>');
    // The base deployment is untouched.
    expect(await installed(previous!.path)).toHaveLength(3);
    expect(existsSync(join(previous!.path, 'usr/share/doc/fx-app'))).toBe(false);

    // The origin keeps the base refspec where ostree admin upgrade cannot follow it, and the request.
    expect(layered!.origin).toMatch(/^\[origin\]\nbaserefspec=fx\/base\n/);
    expect(layered!.origin).toMatch(/^requested=fx-app;$/m);
    expect(layered!.origin).not.toMatch(/^refspec=/m);

    // Each package is in the package cache, once.
    const refs = (await ostreeAt([`--repo=${s.repo}`, 'refs'])).split('\n');
    expect(refs.filter((x) => x.startsWith('deblayer/pkg/')).sort()).toEqual([
      'deblayer/pkg/fx-app/1.0_all',
      'deblayer/pkg/fx-extra/1.0_all',
      'deblayer/pkg/fx-lib/1.2_all',
    ]);
    await execa('ostree', ['fsck', `--repo=${s.repo}`, '--quiet']);

    const status = JSON.parse((await s.run(['status'], ['--json'])).stdout);
    expect(status.deployments[0]).toMatchObject({ default: true, checksum: layered!.checksum, baseCommit, baseRefspec: 'fx/base', requested: ['fx-app'] });
    expect(status.deployments[1].default).toBe(false);
    const text = (await s.run(['status'])).stdout;
    expect(text).toMatch(new RegExp(`^  fx ${layered!.checksum.slice(0, 10)}\\.0 \\(default\\)$`, 'm'));
    expect(status.deployments[0].layeredPackages.sort()).toEqual(['fx-app=1.0', 'fx-extra=1.0', 'fx-lib=1.2']);
    expect(status.deployments[1]).toMatchObject({ checksum: baseCommit, requested: [], layeredPackages: [] });
    // The layer state it is, and the transaction that made it; the base deployment, made by ostree, is none.
    expect(status.deployments[0]).toMatchObject({ state: 1, transaction: { id: 1, command: 'install fx-app' } });
    expect(Date.parse(status.deployments[0].transaction.time)).not.toBeNaN();
    expect(status.deployments[1]).not.toHaveProperty('state');
    expect(status.deployments[1]).not.toHaveProperty('transaction');
    expect(text).toMatch(/^ {9}State: 1\n {3}Transaction: #1 install fx-app \(\d{4}-\d\d-\d\dT[\d:.]+Z\)$/m);
    expect(text.match(/State:/g)).toHaveLength(1);
  });

  test('installing what is already layered says so and changes nothing', async () => {
    const s = await site(withApp);
    const before = await s.state();
    const r = await s.run(['install', 'fx-app']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toBe('Already layered: fx-app. Nothing to do.');
    expect(await s.state()).toEqual(before);
  });

  test('a second install recomposes from the base with every request, reusing the package cache', async () => {
    const s = await site(withApp);
    const r = await s.run(['install', 'fx-conf'], ['--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.deployed.imported).toEqual(['fx-conf']);
    const [layered] = await s.deployments();
    expect((await ostreeAt([`--repo=${s.repo}`, 'rev-parse', `${layered!.checksum}^`])).trim()).toBe(baseCommit);
    expect(layered!.origin).toMatch(/^requested=fx-app;fx-conf;$/m);
    expect((await installed(layered!.path)).filter((l) => l.startsWith('fx-'))).toEqual([
      'fx-app=1.0 ii ',
      'fx-base-files=1.0 ii ',
      'fx-basepkg=1.0 ii ',
      'fx-conf=1.0 ii ',
      'fx-extra=1.0 ii ',
      'fx-lib=1.2 ii ',
    ]);
    // A conffile: in /usr/etc of the commit, in /etc of the deployment, and in dpkg's status with its md5.
    expect(readFileSync(join(layered!.path, 'usr/etc/fx-conf.conf'), 'utf8')).toBe('setting = 1\n');
    expect(readFileSync(join(layered!.path, 'etc/fx-conf.conf'), 'utf8')).toBe('setting = 1\n');
    const status = readFileSync(join(layered!.path, 'usr/lib/sysimage/dpkg/status'), 'utf8');
    expect(status).toContain('Package: fx-conf\nStatus: install ok installed\n');
    expect(status).toMatch(/^Conffiles:\n \/etc\/fx-conf\.conf [0-9a-f]{32}$/m);
    expect(readFileSync(join(layered!.path, 'usr/lib/tmpfiles.d/deblayer-fx-conf.conf'), 'utf8')).toContain('C /var/lib/fx-conf/seed');
    // Its /var file comes at boot, from the tmpfiles line: the only thing missing before that.
    expect(await dpkgVerify(layered!.path, ['fx-conf', 'fx-app'])).toBe(
      'missing     /var/lib\nmissing     /var/lib/fx-conf\nmissing     /var/lib/fx-conf/seed',
    );
  });

  test('a file conflict with the base names both packages, and changes nothing; Replaces allows it', async () => {
    const s = await site();
    const before = await s.state();
    const r = await s.run(['install', 'fx-clash']);
    expect(r.exitCode).toBe(6);
    expect(r.stderr.trim().split('\n').pop()).toBe(
      'deblayer: error: package fx-clash 1.0 and base package fx-basepkg both ship /usr/share/doc/fx-basepkg/marker, with different content (fx-clash would need Replaces: fx-basepkg)',
    );
    const after = await s.state();
    expect(after.deployments).toEqual(before.deployments);
    // Only the package cache grew (the new package's commit stays for next time).
    expect(after.refs.filter((x) => !before.refs.includes(x))).toEqual(['deblayer/pkg/fx-clash/1.0_all']);

    const ok = await s.run(['install', 'fx-takeover'], ['--json']);
    expect(ok.exitCode, ok.stderr).toBe(0);
    const [layered] = await s.deployments();
    expect(readFileSync(join(layered!.path, 'usr/share/doc/fx-basepkg/marker'), 'utf8')).toBe('taken over\n');
    // As dpkg does: the file moved to its new owner, and the base package no longer lists it.
    const owner = await execa('dpkg-query', [`--admindir=${layered!.path}/usr/lib/sysimage/dpkg`, '-S', '/usr/share/doc/fx-basepkg/marker']);
    expect(owner.stdout).toBe('fx-takeover: /usr/share/doc/fx-basepkg/marker');
    expect(await dpkgVerify(layered!.path, ['fx-basepkg', 'fx-takeover'])).toBe('');
  });

  test('install needs a deployment: with --base only --dry-run and --download-only', async () => {
    const refs = await ostreeAt([`--repo=${repo}`, 'refs']);
    const r = await deblayer(['--repo', repo, '--cache-dir', join(dir, 'cache-no-sysroot'), 'install', '--base', 'fx/base', 'fx-lib']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/install deploys onto a sysroot deployment/);
    expect(await ostreeAt([`--repo=${repo}`, 'refs'])).toBe(refs);
  });
});

describe('uninstall', () => {
  test('a local .deb is layered, and kept for later recompositions', async () => {
    const s = await site();
    const r = await s.run(['install', world.local['fx-local_3.0']!], ['--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    const [layered] = await s.deployments();
    expect(layered!.origin).toMatch(/^requested-local=fx-local_3\.0_all;$/m);
    expect(existsSync(join(s.cache, 'local', 'fx-local_3.0_all.deb'))).toBe(true);
    expect(await installed(layered!.path)).toContain('fx-local=3.0 ii ');
  });

  test('removes a package and what only it needed, keeping the other requests', async () => {
    const s = await site(['install', 'fx-app', 'fx-conf'], ['install', world.local['fx-local_3.0']!]);
    const r = await s.run(['uninstall', 'fx-app']);
    expect(r.exitCode, r.stderr).toBe(0);
    const [layered] = await s.deployments();
    const pkgs = await installed(layered!.path);
    // fx-extra came with fx-app alone; fx-lib stays, for fx-local.
    expect(pkgs.filter((l) => l.startsWith('fx-'))).toEqual([
      'fx-base-files=1.0 ii ',
      'fx-basepkg=1.0 ii ',
      'fx-conf=1.0 ii ',
      'fx-lib=1.2 ii ',
      'fx-local=3.0 ii ',
    ]);
    expect(existsSync(join(layered!.path, 'usr/share/doc/fx-app'))).toBe(false);
    expect(layered!.origin).toMatch(/^requested=fx-conf;$/m);
    expect(layered!.origin).toMatch(/^requested-local=fx-local_3\.0_all;$/m);
    expect((await ostreeAt([`--repo=${s.repo}`, 'rev-parse', `${layered!.checksum}^`])).trim()).toBe(baseCommit);
  });

  test('a package that is not layered is an error that changes nothing', async () => {
    const s = await site(withApp);
    const before = await s.state();
    const r = await s.run(['uninstall', 'fx-basepkg']);
    expect(r.exitCode).toBe(5);
    expect(r.stderr.trim().split('\n').pop()).toBe('deblayer: error: package fx-basepkg is not layered: there is nothing to remove');
    expect(await s.state()).toEqual(before);
  });

  test('removing every layered package deploys the base itself, with a plain refspec', async () => {
    const s = await site(['install', 'fx-conf', world.local['fx-local_3.0']!]);
    const r = await s.run(['uninstall', 'fx-conf', 'fx-local']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('Nothing layered any more');
    const [current] = await s.deployments();
    expect(current!.checksum).toBe(baseCommit);
    expect(current!.origin).toBe('[origin]\nrefspec=fx/base\n');
    await execa('ostree', ['fsck', `--repo=${s.repo}`, '--quiet']);
  });
});

describe('rollback', () => {
  test('makes the previous deployment the default again and keeps the current one', async () => {
    const s = await site(withApp);
    const before = await s.deployments();
    expect(before).toHaveLength(2);
    const r = await s.run(['rollback']);
    expect(r.exitCode, r.stderr).toBe(0);
    const after = await s.deployments();
    expect(after.map((d) => d.checksum)).toEqual([before[1]!.checksum, before[0]!.checksum]);
    // Nothing was deployed again: the same directories, swapped.
    expect(after.map((d) => d.path).sort()).toEqual(before.map((d) => d.path).sort());
    expect((await s.run(['rollback'])).exitCode).toBe(0);
    expect((await s.deployments()).map((d) => d.checksum)).toEqual(before.map((d) => d.checksum));
    await execa('ostree', ['fsck', `--repo=${s.repo}`, '--quiet']);
  });

  test('--to N deploys layer state N again, with its origin, and records it as a new state', async () => {
    const s = await site(withApp, ['install', 'fx-conf']);
    const r = await s.run(['rollback', '--to', '1'], ['--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    const [current] = await s.deployments();
    const stateOne = (await ostreeAt([`--repo=${s.repo}`, 'rev-parse', 'deblayer/state/1'])).trim();
    expect(current!.checksum).toBe(stateOne);
    expect(current!.origin).toMatch(/^requested=fx-app;$/m);
    expect((await installed(current!.path)).filter((l) => /^fx-(app|conf)=/.test(l))).toEqual(['fx-app=1.0 ii ']);
    // State 3, a copy of state 1 with its own ref: history lists it, status names it.
    expect(JSON.parse(r.stdout).redeployed).toMatchObject({ state: 1, commit: stateOne, recordedState: 3 });
    expect((await ostreeAt([`--repo=${s.repo}`, 'rev-parse', 'deblayer/state/3'])).trim()).toBe(stateOne);
    const { entries } = JSON.parse((await s.run(['history'], ['--json'])).stdout);
    const [one, copy] = [entries.find((e: { state?: { id: number } }) => e.state?.id === 1).state, entries[entries.length - 1].state];
    expect(copy).toMatchObject({ id: 3, commit: stateOne, deployment: current!.path.split('/').pop(), ref: 'deblayer/state/3' });
    expect({ ...copy, id: 1, ref: one.ref, deployment: one.deployment }).toEqual(one);
    const shown = JSON.parse((await s.run(['status'], ['--json'])).stdout).deployments;
    expect(shown[0]).toMatchObject({ default: true, state: 3, transaction: { command: 'rollback --to 1' } });
    const gone = await s.run(['rollback', '--to', '99']);
    expect(gone.exitCode).toBe(1);
    expect(gone.stderr).toMatch(/layer state 99 is not kept any more \(no ref deblayer\/state\/99 in /);
    const bad = await s.run(['rollback', '--to', 'x']);
    expect(bad.exitCode).toBe(2);
  });
});

describe('the layer database', () => {
  test('history lists every transaction, failed ones too, and the states they deployed', async () => {
    const s = await site();
    for (const [args, status] of [
      [['install', 'fx-app'], 0],
      [['install', 'fx-app'], 0],
      [['install', 'fx-clash'], 6],
      [['uninstall', 'fx-basepkg'], 5],
      [['uninstall', 'fx-app'], 0],
      [['rollback'], 0],
      [['rollback', '--to', '1'], 0],
      [['rollback', '--to', '99'], 1],
    ] as const) {
      const r = await s.run([...args]);
      expect(r.exitCode, `${args.join(' ')}: ${r.stderr}`).toBe(status);
    }
    const r = await s.run(['history'], ['--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    const { database, entries } = JSON.parse(r.stdout);
    expect(database).toBe(s.db);
    const summary = entries.map((e: { argv: string[]; result: string; state?: { id: number } }) => [
      e.argv.filter((a) => !a.startsWith('/') && !a.startsWith('--')).join(' '),
      e.result,
      e.state?.id ?? null,
    ]);
    expect(summary).toEqual([
      ['install fx-app', 'ok', 1],
      ['install fx-app', 'unchanged', null],
      ['install fx-clash', 'failed', null],
      ['uninstall fx-basepkg', 'failed', null],
      ['uninstall fx-app', 'ok', 2],
      ['rollback', 'ok', null],
      ['rollback 1', 'ok', 3],
      ['rollback 99', 'failed', null],
    ]);
    const clash = entries[2];
    expect(clash.error).toMatch(/^package fx-clash 1\.0 and base package fx-basepkg both ship/);
    const first = entries[0].state;
    expect(first).toMatchObject({ baseCommit, baseRefspec: 'fx/base', ref: 'deblayer/state/1', requested: ['fx-app'], requestedLocal: [] });
    expect(first.packages.map((p: { name: string; reason: string }) => `${p.name}:${p.reason}`)).toEqual([
      'fx-app:requested',
      'fx-extra:dependency',
      'fx-lib:dependency',
    ]);
    // The state with nothing layered is the base itself, with no ref of its own.
    expect(entries[4].state).toMatchObject({ commit: baseCommit, requested: [], packages: [] });
    expect(entries[4].state.ref).toBeUndefined();
    const human = await s.run(['history']);
    expect(human.stdout).toMatch(/^#1 \S+ root deblayer .*install fx-app: ok, state 1$/m);
  });

  test('status shows the layer state of each deployment it knows, and its transaction, as history records them', async () => {
    const s = await site(withApp);
    type Entry = { transaction: number; command: string; argv: string[]; started: string; state?: { id: number; commit: string; deployment: string } };
    const commandOf = (e: Entry) => e.argv.slice(e.argv.indexOf(e.command)).join(' ');
    // A new state, then another, which leaves the layered set as it was.
    for (const args of [['install', 'fx-conf'], ['uninstall', 'fx-conf']]) {
      const r = await s.run(args);
      expect(r.exitCode, r.stderr).toBe(0);
      const status = await s.run(['status'], ['--json']);
      expect(status.exitCode, status.stderr).toBe(0);
      expect(status.stderr).toBe('');
      const shown = JSON.parse(status.stdout).deployments as { checksum: string; serial: number; default: boolean; state?: number; transaction?: unknown }[];
      const entries = JSON.parse((await s.run(['history'], ['--json'])).stdout).entries as Entry[];
      const last = entries[entries.length - 1]!;
      expect(commandOf(last)).toBe(args.join(' '));
      expect(shown[0]).toMatchObject({ default: true, state: last.state!.id, transaction: { id: last.transaction, command: args.join(' '), time: last.started } });
      // Every state status names is the state history recorded for that commit and deployment.
      expect(shown.filter((d) => d.state !== undefined).length).toBeGreaterThanOrEqual(2);
      for (const d of shown.filter((x) => x.state !== undefined)) {
        const made = entries.find((e) => e.state?.id === d.state)!;
        expect(made.state).toMatchObject({ commit: d.checksum, deployment: `${d.checksum}.${d.serial}` });
        expect(d.transaction).toEqual({ id: made.transaction, command: commandOf(made), time: made.started });
      }
      const text = await s.run(['status']);
      expect(text.stdout).toContain(`         State: ${last.state!.id}\n   Transaction: #${last.transaction} ${args.join(' ')} (${last.started})\n`);
    }
  });

  test('a corrupt database stops a transaction before any change and is left as it is; status works without it', async () => {
    const s = await site(withApp);
    rmSync(`${s.db}-wal`, { force: true });
    rmSync(`${s.db}-shm`, { force: true });
    writeFileSync(s.db, 'this is not a database, but someone wrote it here');
    const before = await s.state();
    const r = await s.run(['install', 'fx-lib']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr.trim()).toMatch(/^deblayer: error: layer database .*layers\.db cannot be read: file is not a database \(it is left as it is; move it away to start a new history\)$/);
    expect(readFileSync(s.db, 'utf8')).toBe('this is not a database, but someone wrote it here');
    expect(await s.state()).toEqual(before);
    // status shows the deployments from ostree, with one warning naming the database.
    const warning =
      `deblayer: warning: layer database ${s.db} cannot be read: file is not a database ` +
      '(it is left as it is; move it away to start a new history); showing the deployments from ostree alone';
    const status = await s.run(['status'], ['--json']);
    expect(status.exitCode, status.stderr).toBe(0);
    expect(status.stderr).toBe(warning);
    const shown = JSON.parse(status.stdout).deployments as { checksum: string }[];
    expect(shown.map((d) => d.checksum)).toEqual(before.deployments.map((d) => d.checksum));
    for (const d of shown) expect(d).not.toHaveProperty('state');
    const text = await s.run(['status']);
    expect(text.exitCode).toBe(0);
    expect(text.stderr).toBe(warning);
    for (const d of before.deployments) expect(text.stdout).toMatch(new RegExp(`^ {8}Commit: ${d.checksum}$`, 'm'));
    expect(text.stdout).not.toContain('State:');
    expect(readFileSync(s.db, 'utf8')).toBe('this is not a database, but someone wrote it here');
    expect(readdirSync(dirname(s.db)).filter((f) => f.startsWith('layers.db'))).toEqual(['layers.db']);
  });

  test('a database from a newer deblayer is refused', async () => {
    const s = await site(withApp);
    await execa('/usr/bin/python3', ['-c', `import sqlite3; c = sqlite3.connect(${JSON.stringify(s.db)}); c.execute('PRAGMA user_version = 99'); c.commit(); c.close()`]);
    const newer = readFileSync(s.db);
    const r = await s.run(['history']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr.trim()).toMatch(/has schema version 99, newer than this deblayer's 4: use a newer deblayer/);
    // status: the deployments, and a warning; the database stays as the newer deblayer wrote it.
    const status = await s.run(['status'], ['--json']);
    expect(status.exitCode, status.stderr).toBe(0);
    expect(status.stderr).toBe(
      `deblayer: warning: layer database ${s.db} has schema version 99, newer than this deblayer's 4: ` +
        'use a newer deblayer (the database is left as it is); showing the deployments from ostree alone',
    );
    const shown = JSON.parse(status.stdout).deployments as object[];
    expect(shown.length).toBeGreaterThan(0);
    for (const d of shown) expect(d).not.toHaveProperty('state');
    expect(readFileSync(s.db)).toEqual(newer);
    expect(readdirSync(dirname(s.db)).filter((f) => f.startsWith('layers.db'))).toEqual(['layers.db']);
  });
});

describe('one transaction at a time, and scripts', () => {
  const lock = (s: Site) => join(s.path, 'ostree/deploy/fx/var/lib/deblayer/lock');

  test('a transaction killed at any point leaves deployments and repository consistent; the next run cleans up', async () => {
    // fx-app layered: the lists are fetched and fx-lib is in the package cache,
    // so the delays below fall in fx-epoch's import, composition and deploy.
    const s = await site(withApp);
    for (const delay of [100, 300, 600, 900, 1300]) {
      const before = (await s.deployments()).map((d) => d.checksum);
      // Its own process group, so that ostree dies with it, as on a power cut.
      const child = execa('node', [CLI, '--sysroot', s.path, '--cache-dir', s.cache, 'install', 'fx-epoch'], { detached: true, reject: false });
      await new Promise((resolve) => setTimeout(resolve, delay));
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already finished
      }
      const r = await child;
      const after = (await s.deployments()).map((d) => d.checksum);
      if (r.exitCode === 0 || after[0] !== before[0]) {
        // It finished before the kill, or was killed once ostree had made the
        // deployment (the next run records it): a new default, the old default
        // kept (ostree may have pruned an older one as part of the deploy).
        expect(after[1], `delay ${delay}`).toBe(before[0]);
        // Go back for the next round.
        expect((await s.run(['uninstall', 'fx-epoch'])).exitCode).toBe(0);
      } else {
        expect(after, `delay ${delay}`).toEqual(before);
      }
      await execa('ostree', ['fsck', `--repo=${s.repo}`, '--quiet']);
    }
    // The next transaction takes over the lock, removes staging leftovers and records the interrupted ones.
    // A staging directory is named with its maker's pid: one whose maker is gone is a leftover (as is one
    // of an older deblayer, without a pid), one whose maker runs (another stateroot's transaction, a compose) is not.
    const gone = (await execa('sh', ['-c', 'echo $$'])).stdout.trim();
    const leftovers = ['deblayer-db-leftover', `deblayer-pkg-${gone}-Ab12Cd`];
    const inUse = `deblayer-pkg-${process.pid}-Ef34Gh`;
    for (const name of [...leftovers, inUse]) {
      rmSync(join(s.repo, 'tmp', name), { recursive: true, force: true });
      mkdirSync(join(s.repo, 'tmp', name), { recursive: true });
    }
    const ok = await s.run(['install', 'fx-epoch']);
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(readdirSync(join(s.repo, 'tmp')).filter((n) => n.startsWith('deblayer-'))).toEqual([inUse]);
    rmSync(join(s.repo, 'tmp', inUse), { recursive: true });
    const history = JSON.parse((await s.run(['history'], ['--json'])).stdout).entries as { result: string; error?: string }[];
    expect(history.filter((e) => e.result === 'running')).toEqual([]);
    for (const e of history.filter((x) => x.error?.startsWith('interrupted:'))) expect(e.result).toBe('failed');
    // Every deployment deblayer made is a state in the history, however the process ended.
    const states = JSON.parse((await s.run(['status'], ['--json'])).stdout).deployments.filter((d: { requested: string[] }) => d.requested.length > 0);
    for (const d of states) expect(d.state, JSON.stringify(d)).toBeTypeOf('number');
    expect((await s.run(['uninstall', 'fx-epoch'])).exitCode).toBe(0);
  });

  test('nothing to change: exit 0, or 77 with --unchanged-exit-77; --idempotent uninstall', async () => {
    const s = await site(withApp);
    const same = await s.run(['install', '--unchanged-exit-77', 'fx-app']);
    expect(same.exitCode).toBe(77);
    expect(same.stdout).toBe('Already layered: fx-app. Nothing to do.');
    // fx-lib is layered, as fx-app's dependency, but nobody asked for it.
    const missing = await s.run(['uninstall', 'fx-lib']);
    expect(missing.exitCode).toBe(5);
    const idempotent = await s.run(['uninstall', '--idempotent', '--unchanged-exit-77', 'fx-lib']);
    expect(idempotent.exitCode).toBe(77);
    expect(idempotent.stdout).toBe('Not layered: fx-lib. Nothing to do.');
  });

  test('not root, a full disk, a failed download and a broken .deb: each its own line and status, nothing changed', async () => {
    const s = await site();
    const before = await s.state();
    const nobody = await execa('node', [CLI, '--sysroot', s.path, 'install', 'fx-lib'], { uid: 65534, gid: 65534, reject: false, env: { LC_ALL: 'C' } });
    expect(nobody.exitCode).toBe(4);
    expect(nobody.stderr).toBe('deblayer: error: deblayer install changes the sysroot\'s deployments and needs root: run it as root (or with sudo)');

    // A cache on a file system with no room.
    const small = join(dir, 'small');
    mkdirSync(small);
    await execa('mount', ['-t', 'tmpfs', '-o', 'size=8k', 'tmpfs', small]);
    try {
      const full = await deblayer(['--sysroot', s.path, '--cache-dir', small, 'install', 'fx-lib']);
      expect(full.exitCode, full.stderr).toBe(9);
      expect(full.stderr.trim().split('\n').pop()).toMatch(/^deblayer: error: no space left on device: /);
    } finally {
      await execa('umount', [small]);
      rmSync(small, { recursive: true, force: true });
    }

    // The mirror is gone when the packages are fetched.
    const offline = await s.run(['install', '--source', 'deb [trusted=yes] http://127.0.0.1:9/ ./', '--allow-unauthenticated', 'fx-lib']);
    expect(offline.exitCode).toBe(8);
    expect(offline.stderr.trim().split('\n').pop()).toMatch(/^deblayer: error: refresh-md failed: /);

    // A local file that is not a Debian package.
    const broken = join(dir, 'broken_1.0_all.deb');
    writeFileSync(broken, 'not an ar archive');
    const bad = await s.run(['install', broken]);
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr.trim().split('\n').pop()).toMatch(new RegExp(`^deblayer: error: ${broken.replace(/[.]/g, '\\.')}: `));

    expect(await s.state()).toEqual(before);
  });

  type Entry = { transaction: number; result: string; error?: string; state?: { id: number } };
  /** What a failed transaction must leave as it was: deployments, refs, the repository's tmp/, the layer database. */
  async function snapshot(s: Site) {
    return {
      sysroot: await s.state(),
      tmp: readdirSync(join(s.repo, 'tmp')).filter((n) => n.startsWith('deblayer-')),
      history: JSON.parse((await s.run(['history'], ['--json'])).stdout).entries as Entry[],
    };
  }
  /** IMPORTED: the package commits the transaction made before it failed, which the package cache keeps. */
  async function expectFailedCleanly(s: Site, before: Awaited<ReturnType<typeof snapshot>>, error: RegExp, imported: string[] = []) {
    const after = await snapshot(s);
    expect(after.sysroot).toEqual({ ...before.sysroot, refs: [...before.sysroot.refs, ...imported].sort() });
    expect(after.tmp).toEqual([]);
    // One more transaction, failed, with the error; no new layer state.
    expect(after.history.slice(0, -1)).toEqual(before.history);
    const last = after.history[after.history.length - 1]!;
    expect(last).toMatchObject({ transaction: before.history.length + 1, result: 'failed' });
    expect(last.error).toMatch(error);
    expect(last.state).toBeUndefined();
    await execa('ostree', ['fsck', `--repo=${s.repo}`, '--quiet']);
  }
  const errorLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('deblayer: '));

  test('a download that fails after the lists were fetched: exit 8 naming the file, nothing changed, recorded as failed', async () => {
    const s = await site(withApp);
    // The fixture repository over HTTP, with a cache of its own: every .deb of the plan is downloaded.
    const served = join(dir, `http-repo-${sites}`);
    cpSync(world.repo, served, { recursive: true });
    const http = await serveDirectory(served);
    try {
      const sources = join(dir, 'http.sources');
      writeFileSync(sources, fixtureSources(http.url.replace(/\/$/, ''), world.keyring));
      const viaHttp = (args: string[]) => deblayer(['--sysroot', s.path, '--cache-dir', join(s.cache, '..', 'cache-http'), ...args, '--source', sources]);
      const refreshed = await viaHttp(['refresh-md']);
      expect(refreshed.exitCode, refreshed.stderr).toBe(0);
      // The mirror loses one file of the plan once its lists are fetched
      // (fx-conf, which is not in the package cache).
      rmSync(join(served, 'fx-conf_1.0_all.deb'));
      expect((await s.state()).refs).not.toContain('deblayer/pkg/fx-conf/1.0_all');
      const before = await snapshot(s);
      const r = await viaHttp(['install', 'fx-conf']);
      expect(r.exitCode, r.stderr).toBe(8);
      expect(errorLines(r.stderr)).toHaveLength(1);
      expect(errorLines(r.stderr)[0]).toMatch(/^deblayer: error: download failed: Failed to fetch http:\/\/127\.0\.0\.1:\d+\/(\.\/)?fx-conf_1\.0_all\.deb +404 +Not Found/);
      // It got as far as downloading; fx-app, already in the package cache, needs no .deb file.
      expect(http.requests).toContain('/fx-conf_1.0_all.deb');
      expect(http.requests).not.toContain('/fx-app_1.0_all.deb');
      await expectFailedCleanly(s, before, /^download failed: .*fx-conf_1\.0_all\.deb/);
    } finally {
      await http.close();
      rmSync(served, { recursive: true, force: true });
    }
  });

  test("downloads show apt's lines (Get:, Fetched) and, on a terminal, a meter with the size and the rate; the import its count", async () => {
    const s = await site();
    const served = join(dir, `http-repo-${sites}`);
    cpSync(world.repo, served, { recursive: true });
    const http = await serveDirectory(served);
    try {
      const sources = join(dir, 'http-meter.sources');
      writeFileSync(sources, fixtureSources(http.url.replace(/\/$/, ''), world.keyring));
      const cache = join(s.cache, '..', 'cache-meter');
      const args = ['--sysroot', s.path, '--cache-dir', cache, 'install', '--download-only', 'fx-app', '--source', sources];
      // Through a pipe: apt's lines, and no terminal codes.
      const plain = await deblayer(args);
      expect(plain.exitCode, plain.stderr).toBe(0);
      expect(plain.stderr).toMatch(/^Get:\d+ http:\/\/127\.0\.0\.1:\d+ .*fx-app .*\[[\d,.]+ k?B\]$/m);
      expect(plain.stderr).toMatch(/^Fetched [\d,.]+ k?B in \d+s \([\d,.]+ [kM]?B\/s\)$/m);
      expect(plain.stderr).not.toContain('\x1b[K');
      // On a terminal (script(1) gives one): the meter, each time taken off before apt's next line.
      rmSync(cache, { recursive: true, force: true });
      const tty = await execa('script', ['-qec', `node ${CLI} ${args.map((a) => `'${a}'`).join(' ')}`, '/dev/null']);
      expect(tty.stdout).toMatch(/\r\x1b\[KDownloading package lists: 100%\r\x1b\[KFetched /);
      expect(tty.stdout).toMatch(/\r\x1b\[KDownloading 3 packages: 100% of [\d.]+ k?B, [\d.]+ [kMG]?B\/s\r\x1b\[KFetched [\d,.]+ k?B in /);
      expect(readdirSync(join(cache, 'archives')).filter((f) => f.endsWith('.deb')).sort()).toEqual(['fx-app_1.0_all.deb', 'fx-extra_1.0_all.deb', 'fx-lib_1.2_all.deb']);
      // The install itself: the import's count under its line, in the same way.
      const install = args.filter((a) => a !== '--download-only').concat('-y');
      const installed = await execa('script', ['-qec', `node ${CLI} ${install.map((a) => `'${a}'`).join(' ')}`, '/dev/null']);
      expect(installed.stdout).toMatch(/Importing packages into the package cache \(3 of 3 packages\)\.\.\.\r?\n\r\x1b\[KImporting packages into the package cache: [1-3] of 3 \(fx-[a-z]+\)/);
      expect(installed.stdout).toMatch(/\r\x1b\[KImporting packages into the package cache: 3 of 3 \(fx-[a-z]+\)\r\x1b\[KComposing the layered commit\.\.\./);
    } finally {
      await http.close();
      rmSync(served, { recursive: true, force: true });
    }
  });

  test("a .deb that passes apt's hash check but cannot be unpacked: the import fails naming the file, nothing changed", async () => {
    const s = await site();
    // fx-garbled's data.tar is cut in half (ar container and control intact), and the
    // signed repository's index carries the hashes of the file as it is.
    const build = join(dir, 'garbled');
    mkdirSync(join(build, 'out'), { recursive: true });
    const data = { 'usr/share/fx-garbled/data': randomBytes(32768).toString('base64') };
    const good = await buildPackage({ Package: 'fx-garbled', Version: '1.0', Architecture: 'all', files: data }, build);
    const members = (await execa('ar', ['t', good])).stdout.split('\n');
    await execa('ar', ['x', good], { cwd: build });
    const garbled = await arOf(
      join(build, 'out', 'fx-garbled_1.0_all.deb'),
      members.map((name) => {
        const bytes = readFileSync(join(build, name));
        return { name, data: name.startsWith('data.tar') ? bytes.subarray(0, bytes.length >> 1) : bytes };
      }),
    );
    const repoDir = join(dir, 'garbled-repo');
    const debs = readdirSync(world.repo).filter((f) => f.endsWith('.deb')).map((f) => join(world.repo, f));
    await publishSigned(repoDir, [...debs, garbled], world);
    const sources = join(dir, 'garbled.sources');
    writeFileSync(sources, fixtureSources(`file:${repoDir}`, world.keyring));

    const before = await snapshot(s);
    const r = await s.run(['install', '--source', sources, 'fx-garbled']);
    expect(r.exitCode, r.stderr).toBe(1);
    const fetched = join(s.cache, 'archives', 'fx-garbled_1.0_all.deb');
    expect(errorLines(r.stderr)).toHaveLength(1);
    expect(errorLines(r.stderr)[0]).toMatch(new RegExp(`^deblayer: error: ${fetched.replace(/[.]/g, '\\.')}: corrupt member 'data\\.tar\\.\\w+'`));
    // apt fetched it and checked it: the failure is the unpacking.
    expect(readFileSync(fetched)).toEqual(readFileSync(garbled));
    await expectFailedCleanly(s, before, new RegExp(`^${fetched.replace(/[.]/g, '\\.')}: corrupt member`));
  });

  test('a deploy that fails (a read-only /boot) takes back the layer state it composed; nothing changed', async () => {
    const s = await site(withApp);
    // The commit is composed, and then ostree admin deploy cannot write the boot loader entries.
    const boot = join(s.path, 'boot');
    await execa('mount', ['--bind', boot, boot]);
    await execa('mount', ['-o', 'remount,bind,ro', boot]);
    try {
      const before = await snapshot(s);
      const r = await s.run(['install', 'fx-conf']);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toContain('Composing the layered commit...');
      expect(errorLines(r.stderr)).toHaveLength(1);
      expect(errorLines(r.stderr)[0]).toMatch(/^deblayer: error: ostree: cannot deploy [0-9a-f]{10}: .*Read-only file system$/);
      // No deblayer/state/N ref that history does not know and rollback --to would deploy;
      // fx-conf stays in the package cache, for next time.
      await expectFailedCleanly(s, before, /^ostree: cannot deploy /, ['deblayer/pkg/fx-conf/1.0_all']);
      // rollback --to records its copy of the state before the deploy: it goes, with its ref.
      const beforeRollback = await snapshot(s);
      const back = await s.run(['rollback', '--to', '1']);
      expect(back.exitCode).toBe(1);
      expect(errorLines(back.stderr)[0]).toMatch(/^deblayer: error: ostree: cannot deploy [0-9a-f]{10}: .*Read-only file system$/);
      await expectFailedCleanly(s, beforeRollback, /^ostree: cannot deploy /);
    } finally {
      await execa('umount', [boot]);
    }
  });

  test('a second transaction fails at once while one runs; a lock left by a dead process is taken over', async () => {
    // The package lists are cached, as on a host that has run deblayer before.
    const s = await site(['refresh-md']);
    mkdirSync(dirname(lock(s)), { recursive: true });
    const before = await s.state();
    writeFileSync(lock(s), `${process.pid}\n`);
    try {
      const r = await s.run(['install', 'fx-lib']);
      expect(r.exitCode).toBe(75);
      expect(r.stderr.trim()).toBe(`deblayer: error: another deblayer transaction (pid ${process.pid}) is running on ${s.path} (fx): wait for it to finish`);
      expect(await s.state()).toEqual(before);
    } finally {
      rmSync(lock(s), { force: true });
    }
    // A pid that cannot be running (above the kernel's pid_max).
    writeFileSync(lock(s), '4194305\n');
    const r = await s.run(['install', 'fx-lib']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(existsSync(lock(s))).toBe(false);
  });
});

describe('cleanup', () => {
  test('drops package commits no kept state needs; --states drops undeployed states; deployments stay intact', async () => {
    // State 1 (fx-conf) is no longer deployed once states 2 and 3 are; fx-clash never made a state.
    const s = await site(['install', 'fx-conf']);
    expect((await s.run(['install', 'fx-clash'])).exitCode).toBe(6);
    for (const args of [['install', 'fx-app'], ['uninstall', 'fx-conf']]) expect((await s.run(args)).exitCode).toBe(0);
    const before = await s.deployments();
    expect(before.map((d) => d.origin.match(/^requested=(.*)$/m)?.[1])).toEqual(['fx-app;', 'fx-conf;fx-app;']);
    const refsOf = async () => (await ostreeAt([`--repo=${s.repo}`, 'refs'])).split('\n').filter((r) => r.startsWith('deblayer/')).sort();
    const plain = JSON.parse((await s.run(['cleanup'], ['--json'])).stdout);
    // Every state is still kept by its ref, so every package it uses stays.
    expect(plain.removedStates).toEqual([]);
    expect(plain.removedPackages).toEqual(['deblayer/pkg/fx-clash/1.0_all']);

    const r = await s.run(['cleanup', '--states', '--downloads'], ['--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.removedStates).toEqual(['deblayer/state/1']);
    expect(result.removedDownloads).toBeGreaterThan(0);
    // The cache keeps what it read about the deployed commits and their base, and nothing else.
    const kept = readdirSync(join(s.cache, 'bases'));
    expect(kept).toContain(baseCommit);
    for (const c of kept) expect([baseCommit, ...before.map((d) => d.checksum)]).toContain(c);
    expect(plain.removedBaseCaches.length + result.removedBaseCaches.length).toBeGreaterThan(0);
    expect(readdirSync(join(s.cache, 'archives')).filter((f) => f.endsWith('.deb'))).toEqual([]);
    // What is left: the states still deployed, and exactly the packages they are made of.
    const deployedCommits = new Set(before.map((d) => d.checksum));
    const left = await refsOf();
    for (const ref of left.filter((x) => x.startsWith('deblayer/state/'))) {
      expect(deployedCommits.has((await ostreeAt([`--repo=${s.repo}`, 'rev-parse', ref])).trim()), ref).toBe(true);
    }
    const current = before[0]!;
    for (const line of (await installed(current.path)).filter((l) => /^fx-(app|lib|extra)=/.test(l))) {
      const [name, version] = line.split(' ')[0]!.split('=');
      expect(left).toContain(`deblayer/pkg/${name}/${version}_all`);
    }
    expect((await s.deployments()).map((d) => d.checksum)).toEqual(before.map((d) => d.checksum));
    await execa('ostree', ['fsck', `--repo=${s.repo}`, '--quiet']);
  });

  test('a state ref that no transaction recorded (killed between its commit and its row) is dropped by the next transaction and by cleanup; numbers do not skip', async () => {
    const s = await site(withApp);
    // `ostree refs PREFIX` names them without the prefix, in no particular order: the state numbers.
    const refs = async () => (await ostreeAt([`--repo=${s.repo}`, 'refs', 'deblayer/state'])).split('\n').filter((l) => l !== '').sort();
    const numbers = async () => (await refs()).map(Number);
    // What such a kill leaves: a commit of a layer nobody deployed, under the next number.
    const pkg = (await ostreeAt([`--repo=${s.repo}`, 'refs', 'deblayer/pkg'])).split('\n').find((l) => l !== '')!;
    const next = Math.max(...(await numbers())) + 1;
    await ostreeAt([`--repo=${s.repo}`, 'refs', '--create', `deblayer/state/${next}`, `deblayer/pkg/${pkg}`]);
    const r = await s.run(['install', 'fx-epoch'], ['--json', '--verbose']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain(`deblayer: note: dropped deblayer/state/${next}: a layer state no transaction recorded`);
    // The new state takes the number, with its own commit.
    expect(JSON.parse(r.stdout).deployed.ref).toBe(`deblayer/state/${next}`);
    expect((await ostreeAt([`--repo=${s.repo}`, 'rev-parse', `deblayer/state/${next}`])).trim()).toBe(JSON.parse(r.stdout).deployed.commit);
    expect((await s.run(['uninstall', 'fx-epoch'])).exitCode).toBe(0);
    // Plain cleanup drops one too, and keeps every recorded state.
    const orphan = Math.max(...(await numbers())) + 5;
    await ostreeAt([`--repo=${s.repo}`, 'refs', '--create', `deblayer/state/${orphan}`, `deblayer/pkg/${pkg}`]);
    const kept = (await refs()).filter((x) => x !== String(orphan));
    const c = await s.run(['cleanup'], ['--json']);
    expect(c.exitCode, c.stderr).toBe(0);
    expect(JSON.parse(c.stdout).removedStates).toEqual([`deblayer/state/${orphan}`]);
    expect(await refs()).toEqual(kept);
  });
});

describe('Replaces between layered packages', () => {
  test('the replacing package gets the file whichever comes first in the plan, as with dpkg', async () => {
    const s = await site();
    // Requested first, fx-newname comes first in the plan; dpkg would keep its
    // file when fx-oldname is unpacked after it ("Replaced by files in
    // installed package fx-newname").
    const r = await s.run(['install', 'fx-newname', 'fx-oldname'], ['--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    const names = (JSON.parse(r.stdout) as { packages: { name: string }[] }).packages.map((p) => p.name);
    expect(names.indexOf('fx-newname')).toBeLessThan(names.indexOf('fx-oldname'));
    const [layered] = await s.deployments();
    expect(readFileSync(join(layered!.path, 'usr/share/fx-renamed/data'), 'utf8')).toBe('new\n');
    const owner = await execa('dpkg-query', [`--admindir=${layered!.path}/usr/lib/sysimage/dpkg`, '-S', '/usr/share/fx-renamed/data']);
    expect(owner.stdout).toBe('fx-newname: /usr/share/fx-renamed/data');
    expect(await dpkgVerify(layered!.path, ['fx-newname', 'fx-oldname'])).toBe('');
  });
});
