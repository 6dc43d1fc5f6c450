// apply-live's file work, on a root made from a real commit: the changes
// `ostree diff` lists between the booted commit and the target, applied to a
// checkout of the booted one. /usr must end as the target's, files replaced
// without being written in place (a running program keeps its inode), and
// /etc must take the new defaults the admin has not changed, as libostree's
// merge would at the next boot. The booted guest of boot.test.ts runs the
// whole command on a real host.

import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, linkSync, lstatSync, mkdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { MountNamespace } from '../src/exec/namespace.js';
import { OstreeRepo } from '../src/exec/ostree.js';
import { applyUsr, enabledUnits, mergeEtc, undoEtc } from '../src/live/apply-tree.js';
import { liveTreeChanges } from '../src/live/tree-changes.js';
import { ostree } from './helpers/ostree.js';
import { useScratch } from './helpers/scratch.js';
import { snapshotTree } from './helpers/tree.js';

const scratch = useScratch('live');

type Spec = Record<string, string | { link: string }>;
function writeTree(top: string, spec: Spec): string {
  for (const [path, what] of Object.entries(spec)) {
    const full = join(top, path);
    mkdirSync(dirname(full), { recursive: true });
    if (typeof what === 'string') writeFileSync(full, what, { mode: path.includes('/bin/') ? 0o755 : 0o644 });
    else symlinkSync(what.link, full);
  }
  return top;
}

const BOOTED: Spec = {
  'usr/bin/tool': 'tool 1\n',
  'usr/lib/cache.bin': 'cache of the base\n',
  'usr/share/old/readme': 'gone in the target\n',
  'usr/etc/tool.conf': 'default 1\n',
  'usr/etc/edited.conf': 'default 1\n',
  'usr/etc/gone.conf': 'old default\n',
  'usr/etc/gone-edited.conf': 'old default\n',
  'usr/etc/systemd/system/multi-user.target.wants/base.service': { link: '/usr/lib/systemd/system/base.service' },
};

const TARGET: Spec = {
  'usr/bin/tool': 'tool 1\n',
  'usr/bin/added': 'a new program\n',
  'usr/lib/cache.bin': 'cache with the new package\n',
  'usr/share/pkg/doc/deep/file': 'in a new directory\n',
  'usr/lib/systemd/system/web.service': '[Service]\nExecStart=/usr/bin/added\n',
  'usr/lib/sysusers.d/web.conf': 'u web - -\n',
  'usr/etc/tool.conf': 'default 2\n',
  'usr/etc/edited.conf': 'default 2\n',
  'usr/etc/web/web.conf': 'listen 80\n',
  'usr/etc/local-too.conf': 'the package\'s\n',
  'usr/etc/systemd/system/multi-user.target.wants/base.service': { link: '/usr/lib/systemd/system/base.service' },
  'usr/etc/systemd/system/multi-user.target.wants/web.service': { link: '/usr/lib/systemd/system/web.service' },
};

describe('apply-live on a checkout of the booted commit', () => {
  let ns: MountNamespace;
  beforeEach(async () => {
    ns = await MountNamespace.open();
  });
  afterEach(async () => {
    await ns.close();
  });

  /** A repository with the booted and target commits, a checkout of the target, and the running root: the booted commit with its /etc, changed by the admin. */
  async function setUp() {
    const dir = scratch();
    const repoPath = join(dir, 'repo');
    execFileSync('ostree', ['init', `--repo=${repoPath}`, '--mode=bare']);
    const commit = async (name: string, spec: Spec) =>
      (await ostree(repoPath, ['commit', '-b', name, `--tree=dir=${writeTree(join(dir, name), spec)}`])).trim();
    const booted = await commit('booted', BOOTED);
    const target = await commit('target', TARGET);
    const targetDir = join(dir, 'deploy-target');
    await ostree(repoPath, ['checkout', target, targetDir]);

    // The running root: the booted commit, its /etc merged (with the admin's changes).
    const root = join(dir, 'root');
    await ostree(repoPath, ['checkout', booted, root]);
    cpSync(join(root, 'usr/etc'), join(root, 'etc'), { recursive: true, verbatimSymlinks: true });
    writeFileSync(join(root, 'etc/edited.conf'), 'the admin\'s\n');
    writeFileSync(join(root, 'etc/gone-edited.conf'), 'the admin\'s\n');
    writeFileSync(join(root, 'etc/local-too.conf'), 'the admin\'s own\n');
    return { dir, repoPath, booted, target, targetDir, root };
  }

  test('/usr becomes the target\'s, /etc takes the defaults the admin left alone, and a replaced file keeps its old inode', async () => {
    const { dir, repoPath, booted, target, targetDir, root } = await setUp();
    // A program that has the old cache open: a hard link stands for its inode.
    linkSync(join(root, 'usr/lib/cache.bin'), join(dir, 'open-inode'));

    const changes = liveTreeChanges(await new OstreeRepo(repoPath).diff(booted, target));
    expect(changes.outside).toEqual([]);
    expect(changes.counts).toMatchObject({ changed: 3, removed: 3 });
    const etc = await mergeEtc(ns, root, targetDir, changes);
    await applyUsr(ns, root, targetDir, changes);

    // /usr, everything a user sees of it, is the target's.
    const usrOf = (top: string) => new Map([...snapshotTree(join(top, 'usr')).nodes].map(([p, n]) => [p, `${n.type} ${n.mode} ${n.sha256 ?? n.target ?? ''}`]));
    expect(usrOf(root)).toEqual(usrOf(targetDir));
    expect(readFileSync(join(dir, 'open-inode'), 'utf8')).toBe('cache of the base\n');

    expect(etc.added.sort()).toEqual(['/etc/systemd/system/multi-user.target.wants/web.service', '/etc/web']);
    expect(etc.updated).toEqual(['/etc/tool.conf']);
    expect(etc.removed).toEqual(['/etc/gone.conf']);
    expect(etc.kept.sort()).toEqual(['/etc/edited.conf', '/etc/gone-edited.conf', '/etc/local-too.conf']);
    expect(readFileSync(join(root, 'etc/tool.conf'), 'utf8')).toBe('default 2\n');
    expect(readFileSync(join(root, 'etc/edited.conf'), 'utf8')).toBe('the admin\'s\n');
    expect(readFileSync(join(root, 'etc/web/web.conf'), 'utf8')).toBe('listen 80\n');
    expect(readlinkSync(join(root, 'etc/systemd/system/multi-user.target.wants/web.service'))).toBe('/usr/lib/systemd/system/web.service');
    expect(existsSync(join(root, 'etc/gone.conf'))).toBe(false);
    expect(readFileSync(join(root, 'etc/gone-edited.conf'), 'utf8')).toBe('the admin\'s\n');
    expect(enabledUnits(changes)).toEqual(['web.service']);

    // Run again (an interrupted apply-live is resumed): nothing moves, nothing is reported kept that was applied.
    const again = await mergeEtc(ns, root, targetDir, changes);
    await applyUsr(ns, root, targetDir, changes);
    expect(again.added).toEqual([]);
    expect(again.kept.sort()).toEqual(['/etc/edited.conf', '/etc/gone-edited.conf', '/etc/local-too.conf']);
    expect(usrOf(root)).toEqual(usrOf(targetDir));
    expect(lstatSync(join(root, 'usr/bin/added')).mode & 0o777).toBe(0o755);
  });

  test('a rollback to the deployment takes back what apply-live did to its /etc: it is as the admin left it', async () => {
    const { repoPath, booted, target, targetDir, root } = await setUp();
    const etcOf = () => new Map([...snapshotTree(join(root, 'etc')).nodes].map(([p, n]) => [p, `${n.type} ${n.mode} ${n.sha256 ?? n.target ?? ''}`]));
    const before = etcOf();
    const changes = liveTreeChanges(await new OstreeRepo(repoPath).diff(booted, target));
    const merge = await mergeEtc(ns, root, targetDir, changes);
    expect(etcOf()).not.toEqual(before);
    const undone = await undoEtc(ns, root, { added: merge.added, replaced: [...merge.updated, ...merge.removed] });
    expect(undone).toBe(merge.added.length + merge.updated.length + merge.removed.length);
    expect(etcOf()).toEqual(before);
  });
});
