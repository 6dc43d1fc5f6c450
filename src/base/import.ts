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
import { isRefName } from '../vocabulary/packages.js';

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

/** A repository to import into, made if missing, and how to take back what was made. */
interface TargetRepo {
  repo: OstreeRepo;
  created: boolean;
  undo: () => void;
}

export async function importBase(options: ImportOptions): Promise<ImportResult> {
  const source = resolve(options.source);
  const st = statOrFail(source);
  if (!isRefName(options.branch)) {
    throw new DeblayerError(`invalid branch name '${options.branch}': use letters, digits, '.', '_', '-' and '/'`);
  }
  const target = await openTargetRepo(options.repo);
  const { repo } = target;
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
    const commit = await timedStep(options, 'commit', () => commitBase(repo, options, { root, source, os, version, packages, layout, boot }));
    return { commit, ...(parent ? { parent } : {}), branch: options.branch, repo: options.repo, createdRepo: target.created, os, version, packages, layout, boot };
  } catch (err) {
    target.undo();
    throw err;
  } finally {
    if (staging) rmSync(staging, { recursive: true, force: true });
  }
}

/** The repository at PATH, initialised (bare) when it has no config; a failed import removes what this made, parent directories too. */
async function openTargetRepo(path: string): Promise<TargetRepo> {
  const created = !existsSync(join(path, 'config'));
  if (created && existsSync(path) && statSync(path).isDirectory() && !isEmptyDir(path)) {
    throw new DeblayerError(`${path} is not an OSTree repository (it has no config file) and is not empty`);
  }
  const createdTop = created && !existsSync(path) ? topMissing(path) : undefined;
  const undo = () => {
    if (createdTop) rmSync(createdTop, { recursive: true, force: true });
    else if (created) for (const name of readdirSync(path)) rmSync(join(path, name), { recursive: true, force: true });
  };
  if (created) mkdirSync(path, { recursive: true });
  try {
    return { repo: created ? await OstreeRepo.init(path, 'bare') : new OstreeRepo(path), created, undo };
  } catch (err) {
    undo();
    throw err;
  }
}

interface ImportedTree {
  root: string;
  source: string;
  os: Record<string, string>;
  version: string;
  packages: number;
  layout: LayoutResult;
  boot: BootCheck;
}

function commitBase(repo: OstreeRepo, options: ImportOptions, t: ImportedTree): Promise<string> {
  const time = options.timestamp ?? Math.floor(Date.now() / 1000);
  const { layout } = t;
  return repo.commit({
    branch: options.branch,
    trees: [{ dir: t.root }],
    subject: `Import ${describeOs(t.os)} from ${t.source}`,
    body: `${t.packages} packages; dpkg database in /${layout.dpkgDatabase}${layout.kernelVersion ? `; kernel ${layout.kernelVersion}` : '; no kernel'}`,
    metadata: {
      version: t.version,
      'ostree.version': t.version,
      'deblayer.kind': 'base',
      'deblayer.source': t.source,
      'deblayer.import-time': new Date(time * 1000).toISOString(),
      'deblayer.dpkg-database': layout.dpkgDatabase,
      // What `deblayer image` and `base info` tell before anyone tries to boot it.
      'deblayer.bootable': t.boot.problems.length === 0 ? 'yes' : `no: ${t.boot.problems.join('; ')}`,
    },
    timestamp: time,
  });
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
