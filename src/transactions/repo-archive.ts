// compose --repo-archive: the builder's repository kept as one tarball between
// builds (a CI job has no disk that outlives it). With no repository at --repo
// the build starts from the archive (a file, or an http(s) URL to fetch it
// from); after the commit the repository goes back into the file, pruned of
// what the build made and did not keep.

import { createWriteStream, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DeblayerError } from '../errors.js';
import { OstreeRepo } from '../exec/ostree.js';
import { createTarball, extractTarball } from '../exec/tar.js';

export function isUrl(archive: string): boolean {
  return /^https?:\/\//.test(archive);
}

/** Fills REPO from ARCHIVE when REPO is not a repository yet; false when the local repository is used as it is. */
export async function openRepoArchive(repo: string, archive: string, onInfo?: (line: string) => void): Promise<boolean> {
  if (existsSync(join(repo, 'config'))) {
    onInfo?.(`Using the repository at ${repo} (the archive ${archive} is not read)`);
    return false;
  }
  mkdirSync(repo, { recursive: true });
  const local = isUrl(archive) ? join(dirname(repo), `.${repo.split('/').pop()}.download.tar.gz`) : archive;
  try {
    if (isUrl(archive)) {
      onInfo?.(`Fetching the repository archive ${archive}...`);
      await download(archive, local);
    } else if (!existsSync(archive)) {
      throw new DeblayerError(`--repo-archive ${archive}: no such file, and no repository at ${repo} to start from`);
    }
    onInfo?.(`Unpacking ${archive} into ${repo}...`);
    await extractTarball(local, repo);
    if (!existsSync(join(repo, 'config'))) throw new DeblayerError(`--repo-archive ${archive}: holds no OSTree repository (no config at its top)`);
  } catch (err) {
    rmSync(repo, { recursive: true, force: true });
    throw err;
  } finally {
    if (local !== archive) rmSync(local, { force: true });
  }
  return true;
}

async function download(url: string, file: string): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (err) {
    throw new DeblayerError(`--repo-archive ${url}: cannot fetch: ${(err as Error).message}`);
  }
  if (!response.ok || !response.body) throw new DeblayerError(`--repo-archive ${url}: the server answered ${response.status} ${response.statusText}`);
  await pipeline(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream), createWriteStream(file));
}

/** REPO into the archive FILE, replacing it whole only once the new one is complete. */
export async function writeRepoArchive(repo: string, file: string): Promise<void> {
  await new OstreeRepo(repo).prune();
  const partial = `${file}.partial`;
  try {
    await createTarball(repo, partial);
    renameSync(partial, file);
  } finally {
    rmSync(partial, { force: true });
  }
}
