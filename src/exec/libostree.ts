// libostree, through its GObject introspection binding in Debian's python3
// (gir1.2-ostree-1.0, python3-gi): the only place that runs it. Used for what
// the ostree CLI of 2022.7 cannot do: making another deployment the default
// without deploying anything again (`ostree admin set-default` came later),
// committing a layer with deletions; and for what costs a run of the CLI
// each time: committing many package trees in one transaction, reading a few
// paths of a large commit. The programs are python/ostree_ops/*.py, run by
// name by one worker (python/worker.py), and python/commit_trees.py.

import { traceCommand } from './trace.js';
import { CommandError } from '../errors.js';
import { startPythonChannel } from './python.js';
import type { LineProcess } from './run.js';
import type { CommitOptions } from './ostree.js';

function bindingMissing(stderr: string): string | undefined {
  return /No module named 'gi'|Namespace OSTree not available/.test(stderr)
    ? "libostree's python binding is missing (apt-get install gir1.2-ostree-1.0 python3-gi)"
    : undefined;
}

// The programs run in one python worker per deblayer run, started on first
// use (or early, by prestartLibostree) and reused: a python3 started for each
// would import the binding again, and a transaction runs three or four of
// them. Requests and replies are JSON lines on the worker's channel (fd 3):
// {program, args, input} in; {code, result, stderr} out, code being the exit
// status the program would have had as a python3 of its own.

let worker: Promise<LineProcess> | undefined;
let queue: Promise<unknown> = Promise.resolve();

function startWorker(): Promise<LineProcess> {
  worker ??= startPythonChannel('worker.py', [], 'cannot run libostree through python3').then((p) => {
    p.hold(false);
    return p;
  });
  return worker;
}

/** Starts the python worker now, so that its start overlaps other work. */
export function prestartLibostree(): void {
  startWorker().catch(() => {
    // Reported by the first program that needs it.
  });
}

/**
 * Runs PROGRAM (python/ostree_ops/PROGRAM.py) in the worker and returns its
 * result; a failure is a CommandError saying WHAT, with the program's last
 * line of stderr (or a missing binding), the whole of it as detail.
 */
function runProgram(program: string, args: string[], what: string, input?: unknown): Promise<unknown> {
  // One request at a time: the worker answers in order, and a program's
  // transaction never overlaps another's.
  const result = queue.then(async () => {
    let reply: { code: number; result: unknown; stderr: string };
    const p = await startWorker();
    p.hold(true);
    const traced = traceCommand('libostree', [program, ...args]);
    try {
      p.send(JSON.stringify({ program, args, input: input ?? null }));
      reply = JSON.parse(await p.nextLine()) as typeof reply;
    } catch (err) {
      worker = undefined;
      p.kill();
      const why = err instanceof CommandError ? (bindingMissing(err.detail ?? '') ?? err.message) : String(err);
      throw new CommandError('libostree', `${what}: ${why}`, err instanceof CommandError && err.detail ? { detail: err.detail } : {});
    } finally {
      p.hold(false);
      traced();
    }
    if (reply.code !== 0) {
      const why = bindingMissing(reply.stderr) ?? (reply.stderr.trim().split('\n').pop() || `exit status ${reply.code}`);
      throw new CommandError('libostree', `${what}: ${why}`, { detail: reply.stderr });
    }
    return reply.result;
  });
  queue = result.catch(() => undefined);
  return result;
}

/**
 * Writes a commit of OPTIONS.trees laid one over another, later ones winning
 * (python/ostree_ops/commit_union.py): what `ostree commit --tree=ref=...
 * --tree=dir=...` makes, without reading back and checksumming again the
 * files of every commit that is merged into directories already there.
 */
export async function commitUnion(repo: string, options: CommitOptions): Promise<string> {
  const first = options.trees[0];
  if (!first || !('ref' in first)) throw new Error('commitUnion: the first tree must be a commit');
  return (await runProgram('commit_union', [], `cannot commit to ${options.branch} in ${repo}`, { repo, ...options })) as string;
}

/** Moves a deployment to the front of the list: it becomes the default at the next boot. */
export async function setDefaultDeployment(sysroot: string, stateroot: string, checksum: string, serial: number): Promise<void> {
  await runProgram('set_default', [sysroot, stateroot, checksum, String(serial)], `cannot make ${checksum.slice(0, 10)}.${serial} the default deployment`);
}

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

/** What commits an import's trees: `commit` as many as needed, then `finish`; the refs and objects become visible together at the end. */
export interface TreeCommits {
  /** Queues a tree (consumed by the commit); resolves once it is written (visible after finish). */
  commit(job: TreeCommitJob): Promise<TreeCommitResult>;
  finish(): Promise<void>;
  abort(): void;
}

/**
 * Commits trees to REPO in one transaction of the worker, all at finish: for
 * a small import, which then starts no committer of its own.
 */
export class BatchCommitter implements TreeCommits {
  private readonly queued: { job: TreeCommitJob; resolve: (r: TreeCommitResult) => void; reject: (err: unknown) => void }[] = [];

  constructor(private readonly repo: string) {}

  commit(job: TreeCommitJob): Promise<TreeCommitResult> {
    return new Promise((resolve, reject) => this.queued.push({ job, resolve, reject }));
  }

  async finish(): Promise<void> {
    try {
      const results = (await runProgram('commit_trees', [this.repo], `cannot commit ${this.queued.map((q) => q.job.branch).join(', ')} to ${this.repo}`, this.queued.map((q) => q.job))) as TreeCommitResult[];
      this.queued.forEach((q, i) => q.resolve(results[i]!));
    } catch (err) {
      for (const q of this.queued) q.reject(err);
      throw err;
    }
  }

  abort(): void {}
}

/**
 * Commits trees to REPO in one transaction (python/commit_trees.py, a process
 * of its own beside the worker for as long as a large import lasts), each as
 * it comes, so that commits overlap the unpacking. The tree index comes from
 * the tree just written, so no listing of the new commit is needed.
 */
export class TreeCommitter implements TreeCommits {
  private constructor(
    private readonly process: LineProcess,
    private readonly repo: string,
  ) {}

  static async open(repo: string): Promise<TreeCommitter> {
    return new TreeCommitter(await startPythonChannel('commit_trees.py', [repo], `cannot commit to ${repo}`), repo);
  }

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
      // Without this line the program commits nothing: a channel that closes
      // early (Node stopping half-way) must not publish a partial import.
      this.process.send(JSON.stringify({ finish: true }));
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

/**
 * path -> 'd' or 'TYPE CHECKSUM' (the form of the tree index) for those of
 * PATHS (no leading /) that exist in COMMIT: what a conflict check needs of
 * the base, at a cost that follows the paths asked, not the size of the base.
 */
export async function lookupPaths(repo: string, commit: string, paths: string[]): Promise<Record<string, string>> {
  if (paths.length === 0) return {};
  return (await runProgram('lookup_paths', [repo, commit], `cannot read commit ${commit.slice(0, 10)} in ${repo}`, paths)) as Record<string, string>;
}

/** The serial of the newest deployment of COMMIT in STATEROOT, or undefined: what a deploy needs to name its deployment, without another `ostree admin status`. */
export async function deploymentSerial(sysroot: string, stateroot: string, commit: string): Promise<number | undefined> {
  const serial = (await runProgram('deployment_serial', [sysroot, stateroot, commit], `cannot read the deployments of ${sysroot}`)) as number | null;
  return serial ?? undefined;
}

/** Ref -> commit of every ref under PREFIX (as `ostree refs PREFIX` lists them, with the prefix), from the worker that is already running by then. */
export async function listRefs(repo: string, prefix: string): Promise<Map<string, string>> {
  const refs = (await runProgram('list_refs', [repo, prefix], `cannot list the refs under ${prefix} in ${repo}`)) as Record<string, string>;
  return new Map(Object.entries(refs));
}

export interface SubtreeEntry {
  type: 'file' | 'directory' | 'symlink';
  target?: string;
  /** File contents, for files up to the size limit. */
  data?: Buffer;
}

/** path (no leading /) -> entry, for everything under DIRS (no leading /) in COMMIT: apt's configuration and keys of a base in one call. */
export async function readSubtrees(repo: string, commit: string, dirs: string[], maxFileBytes = 1 << 20): Promise<Map<string, SubtreeEntry>> {
  const raw = (await runProgram('read_subtrees', [repo, commit, String(maxFileBytes)], `cannot read commit ${commit.slice(0, 10)} in ${repo}`, dirs)) as Record<string, { type: SubtreeEntry['type']; target?: string; data?: string }>;
  return new Map(
    Object.entries(raw).map(([path, e]) => [
      path,
      { type: e.type, ...(e.target !== undefined ? { target: e.target } : {}), ...(e.data !== undefined ? { data: Buffer.from(e.data, 'base64') } : {}) },
    ]),
  );
}

/**
 * Writes into DEST (new, on the repository's file system) what NEWER has
 * under SUBPATH that OLDER lacks, as hardlinks to the objects of REPO (a bare
 * one) and overlayfs whiteouts for what NEWER removed: the upper lower layer
 * of a view of NEWER over a checkout of OLDER. Its cost follows the
 * difference, not the tree (python/ostree_ops/checkout_delta.py). Returns the
 * number of files and whiteouts written.
 */
export async function checkoutDelta(repo: string, older: string, newer: string, subpath: string, dest: string): Promise<number> {
  return (await runProgram('checkout_delta', [repo, older, newer, subpath, dest], `cannot check out what ${newer.slice(0, 10)} adds to ${older.slice(0, 10)} into ${dest}`)) as number;
}

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

/**
 * Commits DIR over ONTO, deletions included: what maintainer scripts changed,
 * read back from overlay upper directories. Whiteouts and opaque directories
 * delete what ONTO has there, and the overlay's own trusted.overlay.*
 * attributes are left out (python/ostree_ops/commit_layer.py). Returns the
 * commit and the paths of ONTO it deleted.
 */
export async function commitLayer(job: LayerCommitJob): Promise<{ commit: string; removed: string[] }> {
  return (await runProgram('commit_layer', [], `cannot commit ${job.branch} to ${job.repo}`, job)) as { commit: string; removed: string[] };
}
