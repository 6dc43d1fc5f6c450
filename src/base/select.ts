// Which commit is "the base": a ref or checksum named with --base (in --repo,
// or the sysroot's repo), or else that of the deployment the sysroot boots
// next (the staged one on a booted host, else the default). A layered
// deployment's base is the commit recorded in its metadata.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DeblayerError, NotASysrootError } from '../errors.js';
import { OstreeRepo, OstreeSysroot, short, type CommitInfo, type Deployment } from '../exec/ostree.js';
import { locateDpkgDatabase, type DpkgDatabase } from './dpkg-database.js';
import { CommitCache } from './commit-cache.js';
import { parseOsRelease, type OsRelease } from './os-release.js';
import { parseStatus, withoutPackages, type StatusEntry } from './dpkg-status.js';

export interface BaseSelector {
  sysroot: string;
  /** What was read from commits before (CACHE/bases); none when undefined. */
  cache?: CommitCache;
  repo?: string;
  os?: string;
  /** A ref or commit checksum in the repo. */
  base?: string;
}

export interface Base {
  repo: OstreeRepo;
  commit: string;
  /** How the user would name it: the ref, or "deployment debian 4005…c0.0". */
  label: string;
  deployment?: Deployment;
  info: CommitInfo;
  cache: CommitCache;
}

/** What apt and `base info` need to know about a base. */
export interface BaseContents {
  base: Base;
  osRelease: OsRelease;
  database: DpkgDatabase;
  /** The status file as the base has it. */
  statusText: string;
  packages: StatusEntry[];
  /** dpkg's native architecture, then the foreign ones. */
  architectures: string[];
  /**
   * Base packages this deployment goes without (override remove), as the
   * base's status has them: the status and packages above leave them out.
   */
  removed?: StatusEntry[];
  /**
   * Base packages the deployment has another version of (override replace),
   * as the base has them: out of the package list, but in the status, where
   * apt sees them installed and free to move to the replacement's version
   * (a status without them would leave what depends on them broken, which
   * apt refuses to plan from).
   */
  replaced?: StatusEntry[];
}

export async function selectBase(selector: BaseSelector): Promise<Base> {
  const cache = selector.cache ?? new CommitCache(undefined);
  const infoOf = (repo: OstreeRepo, commit: string) => cache.json(commit, 'commit', () => repo.commitInfo(commit));
  const repoPath = selector.repo ?? join(selector.sysroot, 'ostree/repo');
  if (selector.base !== undefined) {
    if (!existsSync(join(repoPath, 'config'))) {
      throw new DeblayerError(`${repoPath} is not an OSTree repository`);
    }
    const repo = new OstreeRepo(repoPath);
    const commit = await repo.resolve(selector.base);
    if (!commit) throw new DeblayerError(`no ref or commit '${selector.base}' in ${repoPath}`);
    return { repo, commit, label: selector.base, info: await infoOf(repo, commit), cache };
  }
  if (!existsSync(join(selector.sysroot, 'ostree/deploy'))) {
    throw new NotASysrootError(
      `${selector.sysroot} is not an OSTree sysroot (no ostree/deploy): name a base commit with --base REF (and --repo)`,
    );
  }
  const sysroot = new OstreeSysroot(selector.sysroot);
  const all = (await sysroot.deployments()).filter((d) => selector.os === undefined || d.stateroot === selector.os);
  // The deployment the sysroot boots next (the staged one, or the default):
  // changes before a reboot accumulate there, as rpm-ostree takes a new
  // deployment's origin from the pending one. Building on the booted one would
  // drop what an earlier install staged.
  const deployment = all[0];
  if (!deployment) {
    throw new NotASysrootError(`no deployments${selector.os ? ` of '${selector.os}'` : ''} in ${selector.sysroot}`);
  }
  const repo = selector.repo ? new OstreeRepo(selector.repo) : sysroot.repo;
  const info = await infoOf(repo, deployment.checksum);
  const label = `deployment ${deployment.stateroot} ${short(deployment.checksum)}.${deployment.serial}${deployment.booted ? ' (booted)' : ''}`;
  // A deployment deblayer layered: resolution starts again from its base.
  const layeredOn = info.metadata['deblayer.base'];
  if (typeof layeredOn === 'string' && /^[0-9a-f]{64}$/.test(layeredOn)) {
    return { repo, commit: layeredOn, label: `base of ${label}`, deployment, info: await infoOf(repo, layeredOn), cache };
  }
  return { repo, commit: deployment.checksum, label, deployment, info, cache };
}

export async function readBaseContents(base: Base): Promise<BaseContents> {
  const { repo, commit, cache } = base;
  const read = await cache.json(commit, 'contents', async () => {
    const database = await locateDpkgDatabase(repo, commit, base.info.metadata);
    const [archBytes, osBytes] = await Promise.all([repo.cat(commit, `${database.path}/arch`), repo.cat(commit, 'usr/lib/os-release')]);
    return { database, arch: archBytes?.toString('utf8') ?? '', osRelease: osBytes?.toString('utf8') ?? '' };
  });
  const statusText = await cache.text(commit, 'dpkg-status', async () => (await repo.cat(commit, `${read.database.path}/status`))?.toString('utf8') ?? '');
  const packages = parseStatus(statusText);
  const native = packages.find((p) => p.package === 'dpkg')?.architecture;
  const listed = read.arch.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const architectures = [...new Set([...(native ? [native] : []), ...listed.filter((a) => a !== 'all')])];
  if (architectures.length === 0) architectures.push(process.arch === 'x64' ? 'amd64' : process.arch);
  return {
    base,
    osRelease: parseOsRelease(read.osRelease),
    database: read.database,
    statusText,
    packages,
    architectures,
  };
}

/**
 * CONTENTS as a deployment that goes without the base packages REMOVED, and
 * has other versions of REPLACED, sees them: out of its status and package
 * list, kept in `removed` and `replaced`. A name the base does not have is an
 * error naming it.
 */
export function withoutBasePackages(contents: BaseContents, removed: string[], replaced: string[] = []): BaseContents {
  const names = [...removed, ...replaced];
  if (names.length === 0) return contents;
  const missing = names.filter((n) => !contents.packages.some((p) => p.package === n && p.state === 'installed'));
  if (missing.length > 0) {
    throw new DeblayerError(`${missing.join(', ')}: not ${missing.length > 1 ? 'packages' : 'a package'} of the base ${contents.base.label}`);
  }
  const set = new Set(names);
  const of = (list: string[]) => contents.packages.filter((p) => list.includes(p.package));
  return {
    ...contents,
    statusText: withoutPackages(contents.statusText, new Set(removed)),
    packages: contents.packages.filter((p) => !set.has(p.package)),
    ...(removed.length > 0 ? { removed: of(removed) } : {}),
    ...(replaced.length > 0 ? { replaced: of(replaced) } : {}),
  };
}

/** The base packages a deployment leaves out of the base: removed, then replaced. */
export function leftOut(contents: BaseContents): StatusEntry[] {
  return [...(contents.removed ?? []), ...(contents.replaced ?? [])];
}

/** The names of the base packages CONTENTS go without (override remove). */
export function removedNames(contents: BaseContents): Set<string> {
  return new Set((contents.removed ?? []).map((p) => p.package));
}

/** The names of the base packages CONTENTS replace (override replace): installed, and free to move, in apt's status. */
export function replacedNames(contents: BaseContents): Set<string> {
  return new Set((contents.replaced ?? []).map((p) => p.package));
}

/** Installed packages only (what apt treats as present). */
export function installedPackages(contents: BaseContents): StatusEntry[] {
  return contents.packages.filter((p) => p.state === 'installed');
}
