// libostree, through its GObject introspection binding in Debian's python3
// (gir1.2-ostree-1.0, python3-gi): the only place that runs it. Used for what
// the ostree CLI of 2022.7 cannot do: making another deployment the default
// without deploying anything again (`ostree admin set-default` came later).
// rpm-ostree's rollback does the same: reorder, then write_deployments().
// And for committing many package trees in one process and one transaction
// (measured: an `ostree commit` per package cost ~0.1 s each, mostly its own
// fsync; the gdb strace vim set is 63 packages).

import { CommandError } from '../errors.js';
import { startPython } from './python.js';
import type { LineProcess } from './run.js';

const SET_DEFAULT = `
import sys
import gi
gi.require_version('OSTree', '1.0')
from gi.repository import Gio, OSTree
path, stateroot, checksum, serial = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
sysroot = OSTree.Sysroot.new(Gio.File.new_for_path(path))
sysroot.load(None)
sysroot.lock()
try:
    deployments = sysroot.get_deployments()
    target = [d for d in deployments if d.get_osname() == stateroot and d.get_csum() == checksum and d.get_deployserial() == serial]
    if not target:
        sys.stderr.write('no deployment %s.%d of %s\\n' % (checksum, serial, stateroot))
        sys.exit(3)
    rest = [d for d in deployments if d is not target[0]]
    sysroot.write_deployments([target[0]] + rest, None)
finally:
    sysroot.unlock()
`;

function bindingMissing(stderr: string): string | undefined {
  return /No module named 'gi'|Namespace OSTree not available/.test(stderr)
    ? "libostree's python binding is missing (apt-get install gir1.2-ostree-1.0 python3-gi)"
    : undefined;
}

// The scripts here run in one python process per deblayer run, started on
// first use (or early, by prestartLibostree) and reused: each started python
// paid ~0.11 s importing the binding, and a transaction runs three or four of
// them. The worker runs each script as if it were \`python3 -c SCRIPT ARGS\`
// (its own globals, sys.argv, stdin and stdout, SystemExit as the exit
// status), so each stays a plain script.
const WORKER = `
import gc, io, json, os, sys, traceback
# Replies go out on a copy of fd 1, and fd 1 itself becomes stderr: libostree
# prints to the process's stdout from C (write_deployments' prune says "Freed
# objects: ..."), and nothing but replies may reach the reply channel.
replies = os.fdopen(os.dup(1), 'w')
os.dup2(2, 1)
sys.stdout = os.fdopen(1, 'w', closefd=False)
# The binding is imported while the worker waits for its first script (it
# costs ~0.08 s): the scripts' own imports then find it loaded. A missing
# binding is reported by the first script that imports it.
try:
    import gi
    gi.require_version('OSTree', '1.0')
    from gi.repository import Gio, GLib, OSTree
except Exception:
    pass
real_stdin, real_stdout, real_stderr = sys.stdin, sys.stdout, sys.stderr
for line in real_stdin:
    req = json.loads(line)
    out, err = io.StringIO(), io.StringIO()
    sys.argv = ['-c'] + req['args']
    sys.stdin, sys.stdout, sys.stderr = io.StringIO(req['input']), out, err
    code = 0
    try:
        exec(compile(req['script'], '<deblayer>', 'exec'), {'__name__': '__main__'})
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        if not isinstance(e.code, int) and e.code is not None:
            err.write('%s\\n' % e.code)
    except BaseException:
        code = 1
        err.write(traceback.format_exc())
    finally:
        sys.stdin, sys.stdout, sys.stderr = real_stdin, real_stdout, real_stderr
        gc.collect()
    replies.write(json.dumps({'code': code, 'stdout': out.getvalue(), 'stderr': err.getvalue()}) + '\\n')
    replies.flush()
`;

let worker: Promise<LineProcess> | undefined;
let queue: Promise<unknown> = Promise.resolve();

function startWorker(): Promise<LineProcess> {
  worker ??= startPython(WORKER, [], 'cannot run libostree through python3').then((p) => {
    p.hold(false);
    return p;
  });
  return worker;
}

/** Starts the python worker now, so that its start overlaps other work. */
export function prestartLibostree(): void {
  startWorker().catch(() => {
    // Reported by the first script that needs it.
  });
}

/** Runs one of the scripts here; a failure is a CommandError saying WHAT, with the script's last line or a missing binding. */
function runScript(script: string, args: string[], what: string, input?: string): Promise<string> {
  // One request at a time: the worker answers in order, and a script's
  // transaction never overlaps another's.
  const result = queue.then(async () => {
    let reply: { code: number; stdout: string; stderr: string };
    const p = await startWorker();
    p.hold(true);
    try {
      p.send(JSON.stringify({ script, args, input: input ?? '' }));
      reply = JSON.parse(await p.nextLine()) as typeof reply;
    } catch (err) {
      worker = undefined;
      p.kill();
      const why = err instanceof CommandError ? (bindingMissing(err.detail ?? '') ?? err.message) : String(err);
      throw new CommandError('libostree', `${what}: ${why}`, err instanceof CommandError && err.detail ? { detail: err.detail } : {});
    } finally {
      p.hold(false);
    }
    if (reply.code !== 0) {
      const why = bindingMissing(reply.stderr) ?? reply.stderr.trim().split('\n').pop() ?? `exit status ${reply.code}`;
      throw new CommandError('libostree', `${what}: ${why}`, { detail: reply.stderr });
    }
    return reply.stdout;
  });
  queue = result.catch(() => undefined);
  return result;
}

/** Moves a deployment to the front of the list: it becomes the default at the next boot. */
export async function setDefaultDeployment(sysroot: string, stateroot: string, checksum: string, serial: number): Promise<void> {
  await runScript(SET_DEFAULT, [sysroot, stateroot, checksum, String(serial)], `cannot make ${checksum.slice(0, 10)}.${serial} the default deployment`);
}

// One JSON line per tree in, one JSON line per commit out, in order; the refs
// and the objects become visible together when the transaction commits at the
// end of stdin. The tree index (path -> 'd', '- CHECKSUM' or 'l CHECKSUM', as
// `ostree ls -R -C` gives it) comes from the mutable tree just written, so no
// listing of the new commit is needed.
const COMMIT_TREES = `
import json, os, stat, sys
# The replies' channel is a copy of fd 1; fd 1 becomes stderr (see WORKER).
replies = os.fdopen(os.dup(1), 'w')
os.dup2(2, 1)
import gi
gi.require_version('OSTree', '1.0')
from gi.repository import Gio, GLib, OSTree
repo = OSTree.Repo.new(Gio.File.new_for_path(sys.argv[1]))
repo.open(None)

def index(mtree, top, prefix, out):
    out[prefix] = 'd'
    for name, checksum in mtree.get_files().items():
        path = prefix + '/' + name if prefix else name
        mode = os.lstat(os.path.join(top, path)).st_mode
        out[path] = ('l ' if stat.S_ISLNK(mode) else '- ') + checksum
    for name, sub in mtree.get_subdirs().items():
        index(sub, top, prefix + '/' + name if prefix else name, out)

repo.prepare_transaction(None)
try:
    while True:
        line = sys.stdin.readline()
        if not line:
            break
        job = json.loads(line)
        mtree = OSTree.MutableTree.new()
        repo.write_directory_to_mtree(Gio.File.new_for_path(job['dir']), mtree, None, None)
        _, root = repo.write_mtree(mtree, None)
        metadata = GLib.VariantDict.new(None)
        for key, value in job['metadata'].items():
            metadata.insert_value(key, GLib.Variant('s', value))
        metadata.insert_value('ostree.ref-binding', GLib.Variant('as', [job['branch']]))
        _, checksum = repo.write_commit_with_time(None, job['subject'], None, metadata.end(), root, job['timestamp'], None)
        repo.transaction_set_ref(None, job['branch'], checksum)
        tree = {}
        index(mtree, job['dir'], '', tree)
        replies.write(json.dumps({'commit': checksum, 'index': tree}) + '\\n')
        replies.flush()
    repo.commit_transaction(None)
except BaseException as err:
    repo.abort_transaction(None)
    sys.stderr.write('%s\\n' % err)
    sys.exit(1)
`;

export interface TreeCommitJob {
  dir: string;
  branch: string;
  subject: string;
  metadata: Record<string, string>;
  /** Seconds since the epoch. */
  timestamp: number;
}

export interface TreeCommitResult {
  commit: string;
  /** path -> 'd' for directories, 'TYPE CHECKSUM' for files and symlinks. */
  index: Record<string, string>;
}

/** Commits trees to REPO in one transaction: `commit` as many as needed, then `finish`. */
export class TreeCommitter {
  private constructor(
    private readonly process: LineProcess,
    private readonly repo: string,
  ) {}

  static async open(repo: string): Promise<TreeCommitter> {
    return new TreeCommitter(await startPython(COMMIT_TREES, [repo], `cannot commit to ${repo}`), repo);
  }

  /** Queues a tree; resolves once it is written (visible after finish). */
  async commit(job: TreeCommitJob): Promise<TreeCommitResult> {
    this.process.send(JSON.stringify(job));
    try {
      return JSON.parse(await this.process.nextLine()) as TreeCommitResult;
    } catch (err) {
      throw this.explain(err, job.branch);
    }
  }

  async finish(): Promise<void> {
    try {
      await this.process.finish();
    } catch (err) {
      throw this.explain(err, undefined);
    }
  }

  abort(): void {
    this.process.kill();
  }

  private explain(err: unknown, branch: string | undefined): unknown {
    if (!(err instanceof CommandError)) return err;
    const missing = bindingMissing(err.detail ?? '');
    const what = branch ? `cannot commit ${branch} to ${this.repo}` : `cannot commit to ${this.repo}`;
    return new CommandError('libostree', `${what}: ${missing ?? err.reason.replace(`cannot commit to ${this.repo}: `, '')}`, err.detail !== undefined ? { detail: err.detail } : {});
  }
}

// The entries of some paths of a commit (same form as the tree index), read
// from its dirtree objects: what a conflict check needs of the base, at a cost
// that follows the number of paths asked, not the size of the base (listing a
// base of 70,000 paths took ~4 s, on every new base commit).
const LOOKUP_PATHS = `
import json, sys
import gi
gi.require_version('OSTree', '1.0')
from gi.repository import Gio, GLib, OSTree
repo = OSTree.Repo.new(Gio.File.new_for_path(sys.argv[1]))
repo.open(None)
_, root, _ = repo.read_commit(sys.argv[2], None)
files = {'': root}
def lookup(path):
    if path in files:
        return files[path]
    parent, _, name = path.rpartition('/')
    f = lookup(parent).get_child(name)
    files[path] = f
    return f
out = {}
for path in json.load(sys.stdin):
    f = lookup(path)
    try:
        kind = f.query_info('standard::type', Gio.FileQueryInfoFlags.NOFOLLOW_SYMLINKS, None).get_file_type()
    except GLib.Error:
        continue
    if kind == Gio.FileType.DIRECTORY:
        out[path] = 'd'
    else:
        out[path] = ('l ' if kind == Gio.FileType.SYMBOLIC_LINK else '- ') + f.get_checksum()
sys.stdout.write(json.dumps(out))
`;

/** path -> 'd' or 'TYPE CHECKSUM' for those of PATHS (no leading /) that exist in COMMIT. */
export async function lookupPaths(repo: string, commit: string, paths: string[]): Promise<Record<string, string>> {
  if (paths.length === 0) return {};
  const out = await runScript(LOOKUP_PATHS, [repo, commit], `cannot read commit ${commit.slice(0, 10)} in ${repo}`, JSON.stringify(paths));
  return JSON.parse(out) as Record<string, string>;
}

// The serial of the first deployment of a commit (the newest: ostree lists
// them newest first), from the worker: what a deploy needs to name its
// deployment, without another \`ostree admin status\` (~0.05 s).
const DEPLOYMENT_SERIAL = `
import sys
import gi
gi.require_version('OSTree', '1.0')
from gi.repository import Gio, OSTree
sysroot = OSTree.Sysroot.new(Gio.File.new_for_path(sys.argv[1]))
sysroot.load(None)
for d in sysroot.get_deployments():
    if d.get_osname() == sys.argv[2] and d.get_csum() == sys.argv[3]:
        print(d.get_deployserial())
        break
`;

/** The serial of the newest deployment of COMMIT in STATEROOT, or undefined. */
export async function deploymentSerial(sysroot: string, stateroot: string, commit: string): Promise<number | undefined> {
  const out = (await runScript(DEPLOYMENT_SERIAL, [sysroot, stateroot, commit], `cannot read the deployments of ${sysroot}`)).trim();
  return out === '' ? undefined : Number(out);
}

// The refs under a prefix with their commits, in one call to the worker that
// is already running by then: the package cache's lookup took an \`ostree refs\`
// and an \`ostree rev-parse\` (~0.07 s) on every transaction.
const LIST_REFS = `
import json, sys
import gi
gi.require_version('OSTree', '1.0')
from gi.repository import Gio, OSTree
repo = OSTree.Repo.new(Gio.File.new_for_path(sys.argv[1]))
repo.open(None)
_, refs = repo.list_refs(sys.argv[2], None)
prefix = sys.argv[2].rstrip('/') + '/'
print(json.dumps({prefix + name: checksum for name, checksum in refs.items()}))
`;

/** Ref -> commit of every ref under PREFIX (as \`ostree refs PREFIX\` lists them, with the prefix). */
export async function listRefs(repo: string, prefix: string): Promise<Map<string, string>> {
  const out = await runScript(LIST_REFS, [repo, prefix], `cannot list the refs under ${prefix} in ${repo}`);
  return new Map(Object.entries(JSON.parse(out) as Record<string, string>));
}

// Every entry under some directories of a commit, with file contents: apt's
// configuration and keys of a base in one run instead of two `ostree` runs a
// file (measured: ~30 runs, 1.5-2.5 s, on every new base commit).
const READ_SUBTREES = `
import base64, json, sys
import gi
gi.require_version('OSTree', '1.0')
from gi.repository import Gio, GLib, OSTree
repo = OSTree.Repo.new(Gio.File.new_for_path(sys.argv[1]))
repo.open(None)
_, root, _ = repo.read_commit(sys.argv[2], None)
limit = int(sys.argv[3])
out = {}
def walk(f, path):
    try:
        info = f.query_info('standard::type,standard::symlink-target,standard::size', Gio.FileQueryInfoFlags.NOFOLLOW_SYMLINKS, None)
    except GLib.Error:
        return
    kind = info.get_file_type()
    if kind == Gio.FileType.DIRECTORY:
        out[path] = {'type': 'directory'}
        for child in f.enumerate_children('standard::name', Gio.FileQueryInfoFlags.NOFOLLOW_SYMLINKS, None):
            walk(f.get_child(child.get_name()), path + '/' + child.get_name())
    elif kind == Gio.FileType.SYMBOLIC_LINK:
        out[path] = {'type': 'symlink', 'target': info.get_symlink_target()}
    elif info.get_size() <= limit:
        _, data, _ = f.load_contents(None)
        out[path] = {'type': 'file', 'data': base64.b64encode(data).decode('ascii')}
    else:
        out[path] = {'type': 'file'}
for top in json.load(sys.stdin):
    walk(root.resolve_relative_path(top), top)
sys.stdout.write(json.dumps(out))
`;

export interface SubtreeEntry {
  type: 'file' | 'directory' | 'symlink';
  target?: string;
  /** File contents, for files up to the size limit. */
  data?: Buffer;
}

/** path (no leading /) -> entry, for everything under DIRS (no leading /) in COMMIT. */
export async function readSubtrees(repo: string, commit: string, dirs: string[], maxFileBytes = 1 << 20): Promise<Map<string, SubtreeEntry>> {
  const out = await runScript(READ_SUBTREES, [repo, commit, String(maxFileBytes)], `cannot read commit ${commit.slice(0, 10)} in ${repo}`, JSON.stringify(dirs));
  const raw = JSON.parse(out) as Record<string, { type: SubtreeEntry['type']; target?: string; data?: string }>;
  return new Map(
    Object.entries(raw).map(([path, e]) => [
      path,
      { type: e.type, ...(e.target !== undefined ? { target: e.target } : {}), ...(e.data !== undefined ? { data: Buffer.from(e.data, 'base64') } : {}) },
    ]),
  );
}

// What one commit has that another lacks, under one directory, as hardlinks
// to the repository's objects: changed and new files, the directories that
// hold them (with the newer commit's metadata) and overlayfs whiteouts for
// what it removed. Over a checkout of the older commit (an overlay's lower
// layers, newer first) it reads as the newer one. Whole subtrees whose dirtree
// and dirmeta checksums are equal are skipped, so the cost follows the
// difference, not the tree (measured: a 70,000-path base takes `ostree
// checkout -H` about 2 s, for a difference of a hundred paths).
const CHECKOUT_DELTA = `
import os, stat, sys
import gi
gi.require_version('OSTree', '1.0')
from gi.repository import Gio, OSTree
repo_path, older, newer, sub, dest = sys.argv[1:6]
repo = OSTree.Repo.new(Gio.File.new_for_path(repo_path))
repo.open(None)
if repo.get_mode() != OSTree.RepoMode.BARE:
    sys.stderr.write('the repository is not in bare mode: its objects cannot be hardlinked\\n')
    sys.exit(4)
objects = os.path.join(repo_path, 'objects')
def csum(v):
    return v.get_data_as_bytes().get_data().hex()
def dirtree(checksum):
    v = repo.load_variant(OSTree.ObjectType.DIR_TREE, checksum)[1]
    fa, da = v.get_child_value(0), v.get_child_value(1)
    files, dirs = {}, {}
    for i in range(fa.n_children()):
        e = fa.get_child_value(i)
        files[e.get_child_value(0).get_string()] = csum(e.get_child_value(1))
    for i in range(da.n_children()):
        e = da.get_child_value(i)
        dirs[e.get_child_value(0).get_string()] = (csum(e.get_child_value(1)), csum(e.get_child_value(2)))
    return files, dirs
def root(rev):
    _, rev = repo.resolve_rev(rev, False)
    c = repo.load_variant(OSTree.ObjectType.COMMIT, rev)[1]
    tree, meta = csum(c.get_child_value(6)), csum(c.get_child_value(7))
    for part in [p for p in sub.split('/') if p]:
        tree, meta = dirtree(tree)[1][part]
    return tree, meta
def be32(x):
    return int.from_bytes(x.to_bytes(4, 'little'), 'big')
def mkdir(path, meta):
    uid, gid, mode, xattrs = repo.load_variant(OSTree.ObjectType.DIR_META, meta)[1].unpack()
    os.mkdir(path)
    os.chown(path, be32(uid), be32(gid))
    os.chmod(path, stat.S_IMODE(be32(mode)))
    for k, v in xattrs:
        os.setxattr(path, bytes(k).rstrip(b'\\0'), bytes(v), follow_symlinks=False)
count = 0
def walk(otree, ntree, path):
    global count
    ofiles, odirs = dirtree(otree) if otree else ({}, {})
    nfiles, ndirs = dirtree(ntree)
    for name, c in nfiles.items():
        if ofiles.get(name) != c:
            os.link(os.path.join(objects, c[:2], c[2:] + '.file'), os.path.join(path, name), follow_symlinks=False)
            count += 1
    for name, (t, m) in ndirs.items():
        if odirs.get(name) != (t, m):
            mkdir(os.path.join(path, name), m)
            walk(odirs[name][0] if name in odirs else None, t, os.path.join(path, name))
    for name in set(ofiles) | set(odirs):
        if name not in nfiles and name not in ndirs:
            os.mknod(os.path.join(path, name), stat.S_IFCHR | 0o600, os.makedev(0, 0))
            count += 1
(ot, _), (nt, nm) = root(older), root(newer)
mkdir(dest, nm)
walk(ot, nt, dest)
sys.stdout.write('%d\\n' % count)
`;

/**
 * Writes into DEST (new, on the repository's file system) what NEWER has
 * under SUBPATH that OLDER lacks: the upper lower layer of a view of NEWER
 * over a checkout of OLDER. Returns the number of entries written.
 */
export async function checkoutDelta(repo: string, older: string, newer: string, subpath: string, dest: string): Promise<number> {
  const out = await runScript(CHECKOUT_DELTA, [repo, older, newer, subpath, dest], `cannot check out what ${newer.slice(0, 10)} adds to ${older.slice(0, 10)} into ${dest}`);
  return Number(out.trim());
}

// A layer read back from overlay upper directories, committed on top of
// another commit: what maintainer scripts changed. Through libostree, not
// `ostree commit --tree=dir=`, for two things the CLI cannot do: delete paths
// (an overlay whiteout, a character device 0:0, or an opaque directory, marked
// trusted.overlay.opaque=y, stands for a deleted path), and leave out the
// overlay's own trusted.overlay.* attributes (origin, impure) that copy-ups
// carry, while keeping the others (security.capability from setcap).
// MutableTree.walk() through PyGObject only takes the first path element:
// the tree is walked by get_subdirs() instead.
const COMMIT_LAYER = `
import json, os, stat, sys
import gi
gi.require_version('OSTree', '1.0')
from gi.repository import Gio, GLib, OSTree
job = json.load(sys.stdin)
top = job['dir']
repo = OSTree.Repo.new(Gio.File.new_for_path(job['repo']))
repo.open(None)
mtree = OSTree.MutableTree.new_from_commit(repo, job['onto'])
removed = []

def remove(path):
    parts = path.split('/')
    node = mtree
    for p in parts[:-1]:
        subs = node.get_subdirs()
        if p not in subs:
            return
        node = subs[p]
    try:
        node.remove(parts[-1], False)
        removed.append(path)
    except GLib.Error:
        pass

for root, dirs, files in os.walk(top):
    rel = os.path.relpath(root, top)
    for name in list(dirs) + files:
        full = os.path.join(root, name)
        path = name if rel == '.' else rel + '/' + name
        st = os.lstat(full)
        if stat.S_ISCHR(st.st_mode) and st.st_rdev == 0:
            remove(path)
            os.unlink(full)
        elif stat.S_ISDIR(st.st_mode):
            try:
                opaque = os.getxattr(full, 'trusted.overlay.opaque', follow_symlinks=False) == b'y'
            except OSError:
                opaque = False
            if opaque:
                remove(path)

def xattrs(repo, path, info):
    full = os.path.join(top, path.lstrip('/'))
    out = []
    try:
        names = os.listxattr(full, follow_symlinks=False)
    except OSError:
        names = []
    for n in sorted(names):
        if n.startswith('trusted.overlay.'):
            continue
        out.append((n.encode() + b'\\0', os.getxattr(full, n, follow_symlinks=False)))
    return GLib.Variant('a(ayay)', out)

modifier = OSTree.RepoCommitModifier.new(OSTree.RepoCommitModifierFlags.NONE, None)
modifier.set_xattr_callback(xattrs)
repo.prepare_transaction(None)
try:
    repo.write_directory_to_mtree(Gio.File.new_for_path(top), mtree, modifier, None)
    _, root = repo.write_mtree(mtree, None)
    metadata = GLib.VariantDict.new(None)
    for key, value in job['metadata'].items():
        metadata.insert_value(key, GLib.Variant('s', value))
    _, checksum = repo.write_commit(job['parent'], job['subject'], None, metadata.end(), root, None)
    repo.transaction_set_ref(None, job['branch'], checksum)
    repo.commit_transaction(None)
except BaseException as err:
    repo.abort_transaction(None)
    sys.stderr.write('%s\\n' % err)
    sys.exit(1)
sys.stdout.write(json.dumps({'commit': checksum, 'removed': removed}))
`;

export interface LayerCommitJob {
  repo: string;
  /** The commit the layer goes on. */
  onto: string;
  /** A tree read back from overlay upper directories (whiteouts and opaque directories are deletions). */
  dir: string;
  /** The new commit's parent. */
  parent: string;
  branch: string;
  subject: string;
  metadata: Record<string, string>;
}

/** Commits DIR over ONTO (deletions included); returns the commit and the deleted paths. */
export async function commitLayer(job: LayerCommitJob): Promise<{ commit: string; removed: string[] }> {
  const out = await runScript(COMMIT_LAYER, [], `cannot commit ${job.branch} to ${job.repo}`, JSON.stringify(job));
  return JSON.parse(out) as { commit: string; removed: string[] };
}
