// The remote side of a rebase: the refspec it moves to, the remote --remote
// adds, the pull, and taking all of that back when the rebase fails, so that a
// failed rebase leaves the repository's remotes and refs as they were.

import { DeblayerError, UsageError } from '../errors.js';
import { GpgVerificationError, type OstreeRepo } from '../exec/ostree.js';
import { diagnose, messageOf } from '../diagnostics.js';
import { isRefName } from '../vocabulary/packages.js';

export interface RebaseTarget {
  /** REMOTE:BRANCH, or BRANCH of the local repository: what the new origin follows. */
  refspec: string;
  remote?: string;
  branch: string;
}

export interface RemoteRequest {
  /** --remote NAME=URL */
  add?: { name: string; url: string };
  /** --gpg-import KEYFILE */
  gpgImport?: string;
  /** false with --no-gpg-verify */
  gpgVerify: boolean;
}

/** [REMOTE:]BRANCH, checked; with --remote NAME=URL a plain BRANCH is NAME's. */
export function rebaseTarget(text: string, request: RemoteRequest): RebaseTarget {
  const colon = text.indexOf(':');
  const remote = colon >= 0 ? text.slice(0, colon) : request.add?.name;
  const branch = colon >= 0 ? text.slice(colon + 1) : text;
  if (!isRefName(branch) || (remote !== undefined && !/^[\w.-]+$/.test(remote))) throw new UsageError(`'${text}' is not a [REMOTE:]BRANCH refspec`);
  if (request.add && remote !== request.add.name) throw new UsageError(`--remote adds ${request.add.name}, but ${text} names remote ${remote}`);
  if (remote === undefined && (request.gpgImport || !request.gpgVerify)) {
    throw new UsageError(`--gpg-import and --no-gpg-verify are for a remote, and ${text} names none`);
  }
  return { refspec: remote === undefined ? branch : `${remote}:${branch}`, branch, ...(remote !== undefined ? { remote } : {}) };
}

/** Parses --remote NAME=URL. */
export function parseRemoteOption(text: string): { name: string; url: string } {
  const eq = text.indexOf('=');
  const name = text.slice(0, eq);
  if (eq <= 0 || !/^[\w.-]+$/.test(name) || eq === text.length - 1) throw new UsageError(`--remote wants NAME=URL, not '${text}'`);
  return { name, url: text.slice(eq + 1) };
}

/** What to do to take the remote's changes back. */
export type Undo = () => Promise<void>;

/**
 * Adds the remote --remote names (or gives an existing one its key) and pulls
 * the branch. Returns how to take that back if a later step fails.
 */
export async function pullRebaseTarget(repo: OstreeRepo, target: RebaseTarget, request: RemoteRequest, onPull?: (line: string) => void): Promise<Undo> {
  if (target.remote === undefined) return async () => {};
  const added = await ensureRemote(repo, target.remote, request);
  const before = await repo.resolve(target.refspec);
  const undo: Undo = async () => {
    const now = await repo.resolve(target.refspec).catch(() => undefined);
    if (now !== before) await (before ? repo.setRef(target.refspec, before) : repo.deleteRef(target.refspec)).catch((e: unknown) => diagnose(`cannot put ${target.refspec} back: ${messageOf(e)}`));
    if (added) await repo.deleteRemote(target.remote!).catch((e: unknown) => diagnose(`cannot remove remote ${target.remote}: ${messageOf(e)}`));
  };
  try {
    await repo.pull(target.remote, target.branch, onPull);
  } catch (err) {
    const url = await repo.remoteUrl(target.remote).catch(() => undefined);
    await undo();
    if (err instanceof GpgVerificationError) throw verificationError(err, url);
    throw err;
  }
  return undo;
}

/** True when this call added the remote. */
async function ensureRemote(repo: OstreeRepo, name: string, request: RemoteRequest): Promise<boolean> {
  const url = await repo.remoteUrl(name);
  if (request.add && url !== undefined && url !== request.add.url) {
    throw new DeblayerError(`remote ${name} exists in ${repo.path} with another URL (${url}), not ${request.add.url}`);
  }
  if (url === undefined) {
    if (!request.add) throw new DeblayerError(`no remote ${name} in ${repo.path}: add it with --remote ${name}=URL`);
    await repo.addRemote(name, request.add.url, { gpgVerify: request.gpgVerify, ...(request.gpgImport ? { gpgImport: request.gpgImport } : {}) });
    return true;
  }
  if (!request.gpgVerify && (await repo.remoteGpgVerify(name))) {
    throw new UsageError(`remote ${name} exists and verifies signatures: --no-gpg-verify only applies to a remote that rebase adds`);
  }
  if (request.gpgImport) await repo.importRemoteKey(name, request.gpgImport);
  return false;
}

function verificationError(err: GpgVerificationError, url: string | undefined): DeblayerError {
  // ostree's own advice (edit the remote's config) is replaced by the options that do it.
  const why = err.reason
    .replace(/^cannot pull [^:]+:[^:]+: /, '')
    .replace(/^error: /, '')
    .replace(/\s*\(use gpg-verify=false in remote config to disable\)/, '');
  return new DeblayerError(
    `remote ${err.remote}${url ? ` (${url})` : ''}: ${err.ref} failed signature verification (${why}): give the remote its key with --gpg-import KEYFILE, or use --no-gpg-verify for an unsigned remote`,
    { detail: err.detail ?? '', cause: err },
  );
}
