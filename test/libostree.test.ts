// The libostree programs that are easy to get subtly wrong, against real
// repositories in temporary directories, checked with the ostree CLI:
//   - checkoutDelta: what the scripts' view lays over a checkout of the base
//     (src/scripts/view.ts) must read as the composed commit;
//   - commitLayer: what the scripts changed, read back from overlay upper
//     directories (src/scripts/run-scripts.ts), committed with its deletions;
//   - commitUnion: a composition, which must be what `ostree commit
//     --tree=ref=... --tree=dir=...` makes of the same trees;
//   - the package import's TreeCommitter and BatchCommitter, and how failures
//     are reported.
// The repositories are in bare mode, as a sysroot's is (checkoutDelta
// hardlinks its objects), which needs root, as the rest of the suite does.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { CommandError } from '../src/errors.js';
import { BatchCommitter, checkoutDelta, commitLayer, commitUnion, lookupPaths, TreeCommitter } from '../src/exec/libostree.js';
import { commitListing, ostree, ostreeExitCode } from './helpers/ostree.js';
import { useScratch } from './helpers/scratch.js';
import { snapshotTree, type NodeInfo } from './helpers/tree.js';

const scratch = useScratch('libostree');

function initRepo(dir: string, mode: 'bare' | 'bare-user' = 'bare'): string {
  const repo = join(dir, 'repo');
  execFileSync('ostree', ['init', `--repo=${repo}`, `--mode=${mode}`]);
  return repo;
}

/** Writes a tree from path -> content (a string: a file; { link }: a symlink; { dir, mode }: a directory). */
type Spec = Record<string, string | { link: string } | { dir: true; mode?: number }>;
function writeTree(top: string, spec: Spec): string {
  mkdirSync(top, { recursive: true });
  for (const [path, what] of Object.entries(spec)) {
    const full = join(top, path);
    if (typeof what === 'object' && 'dir' in what) {
      mkdirSync(full, { recursive: true, mode: what.mode ?? 0o755 });
      continue;
    }
    mkdirSync(dirname(full), { recursive: true });
    if (typeof what === 'string') writeFileSync(full, what, { mode: 0o644 });
    else symlinkSync(what.link, full);
  }
  // mkdir's mode is filtered by the umask: set the ones asked for.
  for (const [path, what] of Object.entries(spec)) {
    if (typeof what === 'object' && 'dir' in what && what.mode !== undefined) execFileSync('chmod', [what.mode.toString(8), join(top, path)]);
  }
  return top;
}

async function commit(repo: string, branch: string, tree: string): Promise<string> {
  return (await ostree(repo, ['commit', '-b', branch, `--subject=${branch}`, `--tree=dir=${tree}`])).trim();
}

async function checkout(repo: string, rev: string, dest: string, subpath = '/usr'): Promise<string> {
  await ostree(repo, ['checkout', `--subpath=${subpath}`, rev, dest]);
  return dest;
}

/** A tree as path -> what a user sees of it: type, mode, owner, contents or link target. */
function seen(top: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [path, n] of snapshotTree(top).nodes) out.set(path, describeNode(n));
  return out;
}

function describeNode(n: NodeInfo): string {
  return `${n.type} ${n.mode} ${n.uid}:${n.gid} ${n.sha256 ?? n.target ?? n.rdev ?? ''}`;
}

/**
 * What an overlay shows of DELTA (the upper lower layer) over LOWER: a
 * whiteout (character device 0:0) hides the path, a directory merges with the
 * one below (its own metadata), anything else replaces what is below.
 */
function overlay(lower: string, delta: string): Map<string, string> {
  const out = seen(lower);
  const drop = (path: string) => {
    for (const p of [...out.keys()]) if (p === path || p.startsWith(`${path}/`)) out.delete(p);
  };
  for (const [path, n] of snapshotTree(delta).nodes) {
    if (n.type === 'char' && n.rdev === '0:0') {
      drop(path);
    } else if (n.type === 'dir') {
      if (!out.get(path)?.startsWith('dir ')) drop(path);
      out.set(path, describeNode(n));
    } else {
      drop(path);
      out.set(path, describeNode(n));
    }
  }
  return out;
}

describe('checkoutDelta', () => {
  test('over a checkout of the older commit, the delta reads as the newer one, and holds only the difference', async () => {
    const dir = scratch();
    const repo = initRepo(dir);
    const older = await commit(
      repo,
      'older',
      writeTree(join(dir, 'older'), {
        'usr/bin/tool': 'tool 1\n',
        'usr/bin/same': 'unchanged\n',
        'usr/lib/link': { link: '../bin/tool' },
        'usr/share/doc/readme': 'read me\n',
        'usr/share/old-only': 'removed in newer\n',
        'usr/share/gone/inner': 'a whole directory removed\n',
        'usr/share/becomes-dir': 'a file, then a directory\n',
        'etc-outside-usr': 'not under the subpath\n',
      }),
    );
    const newer = await commit(
      repo,
      'newer',
      writeTree(join(dir, 'newer'), {
        'usr/bin/tool': 'tool 2\n',
        'usr/bin/same': 'unchanged\n',
        'usr/bin/added': 'new\n',
        'usr/lib/link': { link: '../bin/same' },
        'usr/share/doc': { dir: true, mode: 0o700 },
        'usr/share/doc/readme': 'read me\n',
        'usr/share/becomes-dir/file': 'inside\n',
        'usr/new/deep/file': 'deep\n',
        'etc-outside-usr': 'changed, but not under the subpath\n',
      }),
    );

    const delta = join(dir, 'delta');
    const count = await checkoutDelta(repo, older, newer, 'usr', delta);

    const base = await checkout(repo, older, join(dir, 'older-usr'));
    const wanted = await checkout(repo, newer, join(dir, 'newer-usr'));
    expect(overlay(base, delta)).toEqual(seen(wanted));

    const inDelta = seen(delta);
    // Unchanged files are not there: the lower layer shows them.
    expect(inDelta.has('bin/same')).toBe(false);
    expect(inDelta.has('share/doc/readme')).toBe(false);
    // A directory whose metadata changed is there, with the newer metadata, to merge over the older one.
    expect(inDelta.get('share/doc')).toMatch(/^dir 0700 /);
    expect(inDelta.get('share/old-only')).toMatch(/^char .* 0:0$/);
    expect(inDelta.get('share/gone')).toMatch(/^char .* 0:0$/);
    expect(inDelta.has('share/gone/inner')).toBe(false);
    // A file that became a directory: the older file is hidden by the directory itself.
    expect(inDelta.get('share/becomes-dir')).toMatch(/^dir /);
    // Files, symlinks and whiteouts written: tool, added, link, becomes-dir/file, new/deep/file, old-only, gone.
    expect(count).toBe(7);
    // Files are the repository's objects, not copies.
    const object = (await ostree(repo, ['ls', '-C', newer, '/usr/bin/added'])).trim().split(/\s+/)[4]!;
    expect(statSync(join(delta, 'bin/added')).ino).toBe(statSync(join(repo, 'objects', object.slice(0, 2), `${object.slice(2)}.file`)).ino);
  });

  test('between equal commits it writes the top directory only', async () => {
    const dir = scratch();
    const repo = initRepo(dir);
    const rev = await commit(repo, 'one', writeTree(join(dir, 'one'), { 'usr/bin/tool': 'tool\n' }));
    const delta = join(dir, 'delta');
    expect(await checkoutDelta(repo, rev, rev, 'usr', delta)).toBe(0);
    expect([...seen(delta).keys()]).toEqual(['.']);
  });

  test('refuses a repository whose objects are not the files themselves', async () => {
    const dir = scratch();
    const repo = initRepo(dir, 'bare-user');
    const rev = await commit(repo, 'one', writeTree(join(dir, 'one'), { 'usr/bin/tool': 'tool\n' }));
    const delta = join(dir, 'delta');
    const err = await checkoutDelta(repo, rev, rev, 'usr', delta).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandError);
    expect((err as CommandError).message).toBe(`libostree: cannot check out what ${rev.slice(0, 10)} adds to ${rev.slice(0, 10)} into ${delta}: the repository is not in bare mode: its objects cannot be hardlinked`);
    expect(existsSync(delta)).toBe(false);
  });

  test('a failure ends with the last line of the traceback, which names the program file; the worker goes on', async () => {
    const dir = scratch();
    const repo = initRepo(dir);
    const rev = await commit(repo, 'one', writeTree(join(dir, 'one'), { 'usr/bin/tool': 'tool\n' }));
    const missing = '0'.repeat(64);
    const err = await checkoutDelta(repo, missing, rev, 'usr', join(dir, 'delta')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandError);
    const { message, detail } = err as CommandError;
    expect(message).toMatch(/^libostree: cannot check out what .*: .*No such metadata object/);
    expect(detail).toMatch(/^Traceback/);
    expect(detail).toContain('python/ostree_ops/checkout_delta.py');
    // The same worker answers the next request.
    expect(await lookupPaths(repo, rev, ['usr/bin/tool', 'usr/bin', 'usr/missing'])).toEqual({
      'usr/bin': 'd',
      'usr/bin/tool': `- ${(await ostree(repo, ['ls', '-C', rev, '/usr/bin/tool'])).trim().split(/\s+/)[4]}`,
    });
  });
});

describe('commitLayer', () => {
  async function layered(): Promise<{ dir: string; repo: string; onto: string; layer: string }> {
    const dir = scratch();
    const repo = initRepo(dir);
    const onto = await commit(
      repo,
      'composed',
      writeTree(join(dir, 'composed'), {
        'usr/bin/keep': 'kept\n',
        'usr/bin/drop': 'deleted by a script\n',
        'usr/share/conf/old1': 'old\n',
        'usr/share/conf/old2': 'old\n',
        'usr/share/other/x': 'untouched\n',
      }),
    );
    // An overlay's upper directory after the scripts: a whiteout, an opaque
    // directory (removed, then made again), a new file carrying a copy-up's
    // trusted.overlay.origin beside an attribute of its own, and a whiteout of
    // something that was never in the commit.
    const layer = writeTree(join(dir, 'layer'), {
      'usr/bin/added': 'new\n',
      'usr/share/conf/new1': 'new\n',
      'usr/lib': { dir: true },
    });
    execFileSync('mknod', [join(layer, 'usr/bin/drop'), 'c', '0', '0']);
    execFileSync('mknod', [join(layer, 'usr/lib/never-there'), 'c', '0', '0']);
    execFileSync('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', join(layer, 'usr/share/conf')]);
    execFileSync('setfattr', ['-n', 'trusted.overlay.origin', '-v', 'somewhere', join(layer, 'usr/bin/added')]);
    execFileSync('setfattr', ['-n', 'user.deblayer-test', '-v', 'kept', join(layer, 'usr/bin/added')]);
    return { dir, repo, onto, layer };
  }

  test('whiteouts and opaque directories delete what the commit had; the rest is laid over it', async () => {
    const { repo, onto, layer } = await layered();
    const parent = onto;
    const result = await commitLayer({ repo, onto, dir: layer, parent, branch: 'deblayer/state/1', subject: 'scripts', metadata: { 'deblayer.test': 'yes' } });

    expect([...result.removed].sort()).toEqual(['usr/bin/drop', 'usr/share/conf']);
    const listing = await commitListing(repo, result.commit);
    const files = [...listing.keys()].filter((p) => !listing.get(p)!.startsWith('d')).sort();
    expect(files).toEqual(['/usr/bin/added', '/usr/bin/keep', '/usr/share/conf/new1', '/usr/share/other/x']);
    expect(await ostree(repo, ['cat', result.commit, '/usr/bin/added'])).toBe('new');
    expect(await ostree(repo, ['cat', result.commit, '/usr/bin/keep'])).toBe('kept');
    // No whiteout is committed, and none is left in the layer.
    expect([...listing.values()].filter((l) => l.startsWith('c'))).toEqual([]);
    expect(existsSync(join(layer, 'usr/bin/drop'))).toBe(false);
    expect(existsSync(join(layer, 'usr/lib/never-there'))).toBe(false);
    // The overlay's own attributes are left out, the others kept.
    const xattrs = await ostree(repo, ['ls', '-X', result.commit, '/usr/bin/added']);
    expect(xattrs).toContain("b'user.deblayer-test'");
    expect(xattrs).not.toContain('trusted.overlay');
    expect(await ostree(repo, ['ls', '-X', result.commit, '/usr/share/conf'])).not.toContain('trusted.overlay');
    // The commit's parent, ref and metadata.
    expect((await ostree(repo, ['rev-parse', 'deblayer/state/1'])).trim()).toBe(result.commit);
    expect((await ostree(repo, ['rev-parse', `${result.commit}^`])).trim()).toBe(parent);
    expect((await ostree(repo, ['show', '--print-metadata-key=deblayer.test', result.commit])).trim()).toBe("'yes'");
  });

  test('a layer without deletions keeps every path of the commit', async () => {
    const dir = scratch();
    const repo = initRepo(dir);
    const onto = await commit(repo, 'composed', writeTree(join(dir, 'composed'), { 'usr/bin/keep': 'kept\n', 'usr/share/x': 'x\n' }));
    const layer = writeTree(join(dir, 'layer'), { 'usr/share/x': 'changed\n' });
    const result = await commitLayer({ repo, onto, dir: layer, parent: onto, branch: 'state', subject: 'scripts', metadata: {} });
    expect(result.removed).toEqual([]);
    expect(await ostree(repo, ['cat', result.commit, '/usr/bin/keep'])).toBe('kept');
    expect(await ostree(repo, ['cat', result.commit, '/usr/share/x'])).toBe('changed');
  });

  test('a failure names the branch and sets no ref', async () => {
    const { repo, layer } = await layered();
    const missing = 'f'.repeat(64);
    const err = await commitLayer({ repo, onto: missing, dir: layer, parent: missing, branch: 'deblayer/state/2', subject: 's', metadata: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandError);
    expect((err as CommandError).message).toMatch(new RegExp(`^libostree: cannot commit deblayer/state/2 to ${repo}: `));
    expect((err as CommandError).detail).toContain('python/ostree_ops/commit_layer.py');
    expect(await ostreeExitCode(repo, ['rev-parse', 'deblayer/state/2'])).not.toBe(0);
  });
});

describe('TreeCommitter', () => {
  test('commits each tree with its index; the refs appear at finish, not before', async () => {
    const dir = scratch();
    const repo = initRepo(dir);
    const a = writeTree(join(dir, 'a'), { 'usr/bin/a': 'a\n', 'usr/lib/link': { link: '../bin/a' } });
    const b = writeTree(join(dir, 'b'), { 'usr/share/b': 'b\n' });
    const committer = await TreeCommitter.open(repo);
    const [ra, rb] = await Promise.all([
      committer.commit({ dir: a, branch: 'pkg/a', subject: 'a', metadata: { version: '1' }, timestamp: 0 }),
      committer.commit({ dir: b, branch: 'pkg/b', subject: 'b', metadata: { version: '2' }, timestamp: 0 }),
    ]);
    expect(await ostreeExitCode(repo, ['rev-parse', 'pkg/a'])).not.toBe(0);
    await committer.finish();
    expect((await ostree(repo, ['rev-parse', 'pkg/a'])).trim()).toBe(ra.commit);
    expect((await ostree(repo, ['rev-parse', 'pkg/b'])).trim()).toBe(rb.commit);
    const checksum = async (path: string) => (await ostree(repo, ['ls', '-C', ra.commit, path])).trim().split(/\s+/)[4];
    expect(ra.index).toEqual({ '': 'd', usr: 'd', 'usr/bin': 'd', 'usr/lib': 'd', 'usr/bin/a': `- ${await checksum('/usr/bin/a')}`, 'usr/lib/link': `l ${await checksum('/usr/lib/link')}` });
    expect((await ostree(repo, ['show', '--print-metadata-key=ostree.ref-binding', ra.commit])).trim()).toBe("['pkg/a']");
    expect((await ostree(repo, ['show', '--print-metadata-key=version', rb.commit])).trim()).toBe("'2'");
  });

  test('an aborted import publishes nothing', async () => {
    const dir = scratch();
    const repo = initRepo(dir);
    const committer = await TreeCommitter.open(repo);
    await committer.commit({ dir: writeTree(join(dir, 'a'), { 'usr/bin/a': 'a\n' }), branch: 'pkg/a', subject: 'a', metadata: {}, timestamp: 0 });
    committer.abort();
    await expect(committer.finish()).rejects.toBeInstanceOf(CommandError);
    expect(await ostreeExitCode(repo, ['rev-parse', 'pkg/a'])).not.toBe(0);
  });
});

describe('commitUnion', () => {
  test('lays commits and a directory over a base exactly as ostree commit --tree=ref= --tree=dir= does', async () => {
    const dir = scratch();
    const repo = initRepo(dir);
    const base = await commit(repo, 'base', writeTree(join(dir, 'base'), {
      'usr/bin/sh': 'sh\n', 'usr/lib/libc.so': 'libc\n', 'usr/share/doc/base/copyright': 'c\n', 'usr/share/kept': { dir: true, mode: 0o755 },
    }));
    // Files into directories the base has, a new directory, a symlink, a file a later package replaces, a directory's mode changed later.
    const a = await commit(repo, 'pkg/a', writeTree(join(dir, 'a'), {
      'usr/bin/a': 'a\n', 'usr/lib/liba.so': 'liba\n', 'usr/lib/a/deep/x': 'x\n', 'usr/share/doc/a/copyright': 'a\n', 'usr/bin/shared': 'from a\n',
    }));
    const b = await commit(repo, 'pkg/b', writeTree(join(dir, 'b'), {
      'usr/bin/b': { link: 'a' }, 'usr/lib/a/deep/y': 'y\n', 'usr/lib/a/z': 'z\n', 'usr/bin/shared': 'from b\n', 'usr/share/kept': { dir: true, mode: 0o700 },
    }));
    const db = writeTree(join(dir, 'db'), { 'usr/lib/sysimage/dpkg/status': 'Package: a\n', 'usr/bin/a': 'a rewritten\n' });
    const trees = [{ ref: base }, { ref: a }, { ref: b }, { dir: db }];
    const cli = (await ostree(repo, ['commit', '-b', 'by-cli', '-s', 'cli', `--parent=${base}`, ...trees.map((t) => ('ref' in t ? `--tree=ref=${t.ref}` : `--tree=dir=${t.dir}`))])).trim();
    const ours = await commitUnion(repo, { branch: 'by-union', subject: 'union', parent: base, trees, metadata: { 'deblayer.x': '1' } });
    const listing = async (rev: string) => (await ostree(repo, ['ls', '-R', '-C', rev])).split('\n').filter((l) => l !== '');
    expect(await listing(ours)).toEqual(await listing(cli));
    expect(await listing(ours)).toContainEqual(expect.stringMatching(/^d00700 .* \/usr\/share\/kept$/));
    expect(await ostree(repo, ['cat', ours, '/usr/bin/shared'])).toBe('from b');
    expect((await ostree(repo, ['rev-parse', 'by-union'])).trim()).toBe(ours);
    expect((await ostree(repo, ['rev-parse', `${ours}^`])).trim()).toBe(base);
    expect((await ostree(repo, ['show', '--print-metadata-key=ostree.ref-binding', ours])).trim()).toBe("['by-union']");
    expect((await ostree(repo, ['show', '--print-metadata-key=deblayer.x', ours])).trim()).toBe("'1'");
  });

  test('a file where a directory is fails, naming the branch, as the CLI does, and sets no ref', async () => {
    const dir = scratch();
    const repo = initRepo(dir);
    const base = await commit(repo, 'base', writeTree(join(dir, 'base'), { 'usr/lib/x/file': 'f\n' }));
    const clash = await commit(repo, 'clash', writeTree(join(dir, 'clash'), { 'usr/lib/x': 'a file\n' }));
    expect(await ostreeExitCode(repo, ['commit', '-b', 'by-cli', '-s', 'cli', `--tree=ref=${base}`, `--tree=ref=${clash}`])).not.toBe(0);
    const err = await commitUnion(repo, { branch: 'deblayer/state/9', subject: 's', trees: [{ ref: base }, { ref: clash }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandError);
    expect((err as CommandError).message).toMatch(new RegExp(`^libostree: cannot commit to deblayer/state/9 in ${repo}: `));
    expect(await ostreeExitCode(repo, ['rev-parse', 'deblayer/state/9'])).not.toBe(0);
  });
});

describe('BatchCommitter', () => {
  test('commits the trees in one request at finish, with the index the streaming committer gives', async () => {
    const dir = scratch();
    const spec = { 'usr/bin/a': 'a\n', 'usr/lib/link': { link: '../bin/a' } };
    for (const d of ['one', 'two']) mkdirSync(join(dir, d));
    const repoA = initRepo(join(dir, 'one'));
    const repoB = initRepo(join(dir, 'two'));
    const batch = new BatchCommitter(repoA);
    const pending = batch.commit({ dir: writeTree(join(dir, 'a1'), spec), branch: 'pkg/a', subject: 'a', metadata: {}, timestamp: 0 });
    expect(await ostreeExitCode(repoA, ['rev-parse', 'pkg/a'])).not.toBe(0);
    await batch.finish();
    const batched = await pending;
    const stream = await TreeCommitter.open(repoB);
    const streamed = stream.commit({ dir: writeTree(join(dir, 'a2'), spec), branch: 'pkg/a', subject: 'a', metadata: {}, timestamp: 0 });
    await stream.finish();
    expect(batched).toEqual(await streamed);
    expect((await ostree(repoA, ['rev-parse', 'pkg/a'])).trim()).toBe(batched.commit);
    // The trees were consumed: their files are objects now.
    expect(existsSync(join(dir, 'a1'))).toBe(false);
  });
});
