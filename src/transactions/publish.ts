// publish: a builder's repository made servable as plain files. The branches'
// new commits are copied into an archive-mode repository, signed, given a
// static delta from what hosts have, and only then do its refs and summary
// move: hosts read the summary and refs, so a publish that fails half-way
// leaves them pointing at what was published before.

import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DeblayerError, UsageError } from '../errors.js';
import { OstreeRepo, short } from '../exec/ostree.js';
import { diagnose, messageOf } from '../diagnostics.js';

/** deblayer's own refs (package cache, layer states): never published. */
const PRIVATE_PREFIX = 'deblayer/';

export interface PublishOptions {
  /** The repository the commits come from. */
  repo: string;
  /** The archive-mode repository to publish into. */
  dir: string;
  /** Branches to publish; every branch of REPO but deblayer's own by default. */
  branches?: string[];
  /** Keys to sign commits and summary with. */
  gpgSign?: string[];
  gpgHomedir?: string;
  onProgress?: (line: string) => void;
}

export interface PublishedBranch {
  ref: string;
  commit: string;
  /** The commit DIR had on the branch before, if any. */
  previous?: string;
  /** Whether a static delta was generated, and from which commit. */
  delta: boolean;
  deltaFrom?: string;
  signed: boolean;
}

export interface PublishResult {
  repo: string;
  dir: string;
  /** DIR was made an archive-mode repository by this run. */
  created: boolean;
  /** The branches that moved. */
  branches: PublishedBranch[];
  /** The branches DIR already had at REPO's commit. */
  unchanged: string[];
  summarySigned: boolean;
}

interface Pending {
  ref: string;
  commit: string;
  previous: string | undefined;
}

export async function publish(options: PublishOptions): Promise<PublishResult> {
  const source = openSource(options.repo);
  const refs = await branchesToPublish(source, options.branches);
  const { target, created } = await openTarget(options.dir);
  const pending: Pending[] = [];
  const unchanged: string[] = [];
  for (const ref of refs) {
    const commit = (await source.resolve(ref))!;
    const previous = await target.resolve(ref);
    if (previous === commit) unchanged.push(ref);
    else pending.push({ ref, commit, previous });
  }
  const result: PublishResult = { repo: options.repo, dir: options.dir, created, branches: [], unchanged, summarySigned: false };
  if (pending.length === 0) return result;
  const progress = options.onProgress ?? (() => {});
  for (const p of pending) {
    progress(`Copying ${p.ref} (${short(p.commit)}) from ${options.repo}...`);
    // One parent as well: the first publish of a branch can then offer a delta from it.
    await target.pullLocal(options.repo, p.commit, { depth: 1 });
  }
  for (const p of pending) result.branches.push(await prepareBranch(target, p, options, progress));
  await moveRefs(target, pending, options, progress);
  result.summarySigned = (options.gpgSign ?? []).length > 0;
  return result;
}

function openSource(path: string): OstreeRepo {
  if (!existsSync(join(path, 'config'))) throw new DeblayerError(`${path} is not an OSTree repository (no config file): nothing to publish from`);
  return new OstreeRepo(path);
}

async function branchesToPublish(source: OstreeRepo, asked: string[] | undefined): Promise<string[]> {
  if (asked && asked.length > 0) {
    for (const ref of asked) {
      if (ref.startsWith(PRIVATE_PREFIX)) throw new UsageError(`${ref} is deblayer's own bookkeeping (${PRIVATE_PREFIX}), not a branch to publish`);
      if ((await source.resolve(ref)) === undefined) throw new DeblayerError(`no branch ${ref} in ${source.path}`);
    }
    return [...new Set(asked)];
  }
  const refs = (await source.allRefs()).filter((r) => !r.startsWith(PRIVATE_PREFIX)).sort();
  if (refs.length === 0) throw new DeblayerError(`${source.path} has no branches to publish (refs under ${PRIVATE_PREFIX} are not published)`);
  return refs;
}

/** DIR as an archive-mode repository: made when it does not exist or is empty, refused when it is anything else. */
async function openTarget(dir: string): Promise<{ target: OstreeRepo; created: boolean }> {
  if (!existsSync(join(dir, 'config'))) {
    if (existsSync(dir) && readdirSync(dir).length > 0) throw new DeblayerError(`${dir} is neither an OSTree repository nor empty: refusing to publish into it`);
    return { target: await OstreeRepo.init(dir, 'archive'), created: true };
  }
  const target = new OstreeRepo(dir);
  const mode = await target.mode();
  if (mode !== 'archive') throw new DeblayerError(`${dir} is a ${mode} repository: publish serves an archive-mode one as plain files`);
  return { target, created: false };
}

/** Signs the branch's new commit and generates its static delta; the ref does not move yet. */
async function prepareBranch(target: OstreeRepo, p: Pending, options: PublishOptions, progress: (line: string) => void): Promise<PublishedBranch> {
  const keys = options.gpgSign ?? [];
  let signed = false;
  if (keys.length > 0) {
    // ostree gpg-sign adds a signature each time: a commit signed before (another branch's) is left as it is.
    if ((await target.signatureCount(p.commit)) === 0) {
      progress(`Signing ${p.ref} (${short(p.commit)}) with ${keys.join(', ')}...`);
      await target.gpgSign(p.commit, keys, options.gpgHomedir);
    }
    signed = true;
  }
  const parent = (await target.commitInfo(p.commit)).parent;
  const from = p.previous ?? (parent && target.hasCommit(parent) ? parent : undefined);
  if (from !== undefined) {
    progress(`Generating a static delta for ${p.ref}: ${short(from)} -> ${short(p.commit)}...`);
    await target.generateStaticDelta(from, p.commit);
  }
  return {
    ref: p.ref,
    commit: p.commit,
    ...(p.previous ? { previous: p.previous } : {}),
    delta: from !== undefined,
    ...(from !== undefined ? { deltaFrom: from } : {}),
    signed,
  };
}

/** Moves the refs, then the summary; when the summary cannot be written, the refs go back to where they were. */
async function moveRefs(target: OstreeRepo, pending: Pending[], options: PublishOptions, progress: (line: string) => void): Promise<void> {
  const moved: Pending[] = [];
  try {
    for (const p of pending) {
      await target.setRef(p.ref, p.commit);
      moved.push(p);
    }
    progress(`Updating the summary of ${options.dir}...`);
    await target.updateSummary({
      ...(options.gpgSign?.length ? { gpgSign: options.gpgSign } : {}),
      ...(options.gpgHomedir ? { gpgHomedir: options.gpgHomedir } : {}),
    });
  } catch (err) {
    for (const p of moved) {
      await (p.previous ? target.setRef(p.ref, p.previous) : target.deleteRef(p.ref)).catch((e: unknown) =>
        diagnose(`cannot put ref ${p.ref} of ${options.dir} back: ${messageOf(e)}`),
      );
    }
    throw err;
  }
}
