// `deblayer base import`: a Debian root filesystem (directory or tarball) in,
// one OSTree commit on a branch out. The source is never changed: it is copied
// (hardlinked when on the repository's filesystem, since the layout step only
// renames and unlinks) into a staging directory inside the repository, the
// staging copy is rearranged (ostree-layout.ts) and committed, and the staging
// copy is removed whatever happens.

import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { DeblayerError } from '../errors.js';
import { copyTree } from '../exec/cp.js';
import { extractTarball } from '../exec/tar.js';
import { OstreeRepo } from '../exec/ostree.js';
import { applyOstreeLayout, type LayoutOptions, type LayoutResult } from './ostree-layout.js';
import { parseOsRelease, describeOs, type OsRelease } from './os-release.js';
import { parseStatus } from './dpkg-status.js';
import { checkBootable, type BootCheck } from './bootable.js';
import { timedStep } from '../steps.js';
import { stagingDir } from '../staging.js';

export interface ImportOptions extends LayoutOptions {
  source: string;
  repo: string;
  branch: string;
  /** Seconds since the epoch for the commit (SOURCE_DATE_EPOCH); now otherwise. */
  timestamp?: number;
  onStep?: (step: ImportStep, seconds: number) => void;
  onStart?: (step: ImportStep) => void;
}

export type ImportStep = 'copy' | 'layout' | 'check' | 'commit';

export interface ImportResult {
  commit: string;
  parent?: string;
  branch: string;
  repo: string;
  createdRepo: boolean;
  os: OsRelease;
  version: string;
  packages: number;
  layout: LayoutResult;
  boot: BootCheck;
}

export async function importBase(options: ImportOptions): Promise<ImportResult> {
  const source = resolve(options.source);
  const st = statOrFail(source);
  if (!/^[\w.-]+(\/[\w.-]+)*$/.test(options.branch)) {
    throw new DeblayerError(`invalid branch name '${options.branch}': use letters, digits, '.', '_', '-' and '/'`);
  }
  const createdRepo = !existsSync(join(options.repo, 'config'));
  if (createdRepo && existsSync(options.repo) && statSync(options.repo).isDirectory() && !isEmptyDir(options.repo)) {
    throw new DeblayerError(`${options.repo} is not an OSTree repository (it has no config file) and is not empty`);
  }
  // On failure, a repository this import created goes again, with any parent directories it made.
  const createdTop = createdRepo && !existsSync(options.repo) ? topMissing(options.repo) : undefined;
  const undo = () => {
    if (createdTop) rmSync(createdTop, { recursive: true, force: true });
    else if (createdRepo) for (const name of readdirSync(options.repo)) rmSync(join(options.repo, name), { recursive: true, force: true });
  };
  if (createdRepo) mkdirSync(options.repo, { recursive: true });
  let repo: OstreeRepo;
  try {
    repo = createdRepo ? await OstreeRepo.init(options.repo, 'bare') : new OstreeRepo(options.repo);
  } catch (err) {
    undo();
    throw err;
  }
  let staging: string | undefined;
  try {
    const parent = await repo.resolve(options.branch);
    staging = stagingDir(options.repo, 'import');
    const root = join(staging, 'root');
    mkdirSync(root, { mode: 0o755 });

    await timedStep(options, 'copy', async () => {
      if (st.isDirectory()) {
        await copyTree(source, root, { hardlinks: st.dev === statSync(staging!).dev });
      } else {
        await extractTarball(source, root);
      }
    });
    const os = readOsRelease(root);
    const layout = await timedStep(options, 'layout', async () => applyOstreeLayout(root, source, options));
    const boot = await timedStep(options, 'check', () => checkBootable(root, layout.kernelVersion));
    const status = readFileSync(join(root, layout.dpkgDatabase, 'status'), 'utf8');
    const packages = parseStatus(status).filter((p) => p.state === 'installed').length;

    const version = os.VERSION_ID ?? 'unknown';
    const time = options.timestamp ?? Math.floor(Date.now() / 1000);
    const commit = await timedStep(options, 'commit', () =>
      repo.commit({
        branch: options.branch,
        trees: [{ dir: root }],
        subject: `Import ${describeOs(os)} from ${source}`,
        body: `${packages} packages; dpkg database in /${layout.dpkgDatabase}${layout.kernelVersion ? `; kernel ${layout.kernelVersion}` : '; no kernel'}`,
        metadata: {
          version,
          'ostree.version': version,
          'deblayer.kind': 'base',
          'deblayer.source': source,
          'deblayer.import-time': new Date(time * 1000).toISOString(),
          'deblayer.dpkg-database': layout.dpkgDatabase,
          // What `deblayer image` and `base info` tell before anyone tries to boot it.
          'deblayer.bootable': boot.problems.length === 0 ? 'yes' : `no: ${boot.problems.join('; ')}`,
        },
        timestamp: time,
      }),
    );
    return {
      commit,
      ...(parent ? { parent } : {}),
      branch: options.branch,
      repo: options.repo,
      createdRepo,
      os,
      version,
      packages,
      layout,
      boot,
    };
  } catch (err) {
    undo();
    throw err;
  } finally {
    if (staging) rmSync(staging, { recursive: true, force: true });
  }
}


function statOrFail(source: string) {
  try {
    return statSync(source);
  } catch (err) {
    throw new DeblayerError(`${source}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
  }
}

function isEmptyDir(dir: string): boolean {
  return readdirSync(dir).length === 0;
}

function readOsRelease(root: string): OsRelease {
  for (const path of ['usr/lib/os-release', 'etc/os-release']) {
    try {
      return parseOsRelease(readFileSync(join(root, path), 'utf8'));
    } catch {
      // try the next
    }
  }
  return {};
}

/** The highest directory of PATH that does not exist yet (what mkdir -p will create). */
function topMissing(path: string): string {
  let top = resolve(path);
  while (!existsSync(dirname(top))) top = dirname(top);
  return top;
}
