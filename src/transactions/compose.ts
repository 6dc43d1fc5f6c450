// compose: a layer manifest through the same stages as install, up to the
// commit, with no sysroot. The result goes on the manifest's Branch as a child
// of the branch's previous commit, so the builder's repository keeps one
// continuous history that hosts pull from; a build that would change nothing
// (same base commit, same resolved packages, same manifest) adds no commit.

import { basename } from 'node:path';
import type { AptEnvironment, AptSettings } from '../apt/environment.js';
import type { Plan } from '../apt/plan.js';
import type { BaseContents } from '../base/select.js';
import { PackageCache, type CachedPackage } from '../compose/package-cache.js';
import type { CommitInfo, OstreeRepo } from '../exec/ostree.js';
import { readManifest, type Manifest } from '../manifest/manifest.js';
import { composeState } from '../pipeline/compose.js';
import { configureState } from '../pipeline/configure.js';
import { fetchPackages, type Fetched } from '../pipeline/fetch.js';
import { importPackages } from '../pipeline/import.js';
import { nextOrigin } from '../pipeline/origin.js';
import { diffPackages, type PackageDiff } from '../pipeline/package-diff.js';
import { planRequest } from '../pipeline/plan.js';
import type { StageHooks } from '../pipeline/stages.js';
import { SYSUSERS_CONF } from '../scripts/sysusers.js';
import { formatStatePackages, parseStatePackages } from '../vocabulary/packages.js';
import type { BaseAptOptions } from './base-apt.js';
import { openLayerBase } from './layer.js';
import { LAYERING_KEY, MADE_KEY } from '../pipeline/basis.js';

export interface ComposeOptions extends BaseAptOptions, StageHooks {
  repo: string;
  settings: AptSettings;
  mode: 'dry-run' | 'commit';
  onResolved?: (plan: Plan) => void;
  onScriptLine?: (line: string) => void;
  onNotice?: (line: string) => void;
}

export interface ComposeResult {
  manifest: string;
  branch: string;
  base: { ref: string; commit: string };
  plan: Plan;
  /** The branch's commit before this compose. */
  previous?: string;
  /** The new commit on the branch (not for a dry run, nor when nothing changed). */
  commit?: string;
  /** Same base commit, packages and manifest as the branch's commit: nothing was committed. */
  unchanged: boolean;
  diff: PackageDiff;
}

/** What a composed commit records of its build (`deblayer.compose.*`), read back by the next compose and by --verify. */
export const COMPOSE_KEYS = {
  manifest: 'deblayer.compose.manifest',
  digest: 'deblayer.compose.digest',
  base: 'deblayer.compose.base',
  baseRef: 'deblayer.compose.base-ref',
  requested: 'deblayer.compose.requested',
  packages: 'deblayer.compose.packages',
  skipScripts: 'deblayer.compose.skip-scripts',
} as const;

/**
 * Keys of a layer state's commit. A composed commit must not carry them: a
 * host deploying it would take `deblayer.base` for its base and resolve the
 * composed packages away.
 */
const STATE_KEYS = ['deblayer.base', 'deblayer.origin', 'deblayer.requested', 'deblayer.packages', 'deblayer.scripts', LAYERING_KEY, MADE_KEY];

/** The ref a manifest's Base names: itself, or the Branch of the manifest it stacks on. */
export function baseRefOf(manifest: Manifest): string {
  return manifest.base.kind === 'ref' ? manifest.base.ref : readManifest(manifest.base.path).branch;
}

export async function composeManifest(path: string, options: ComposeOptions): Promise<ComposeResult> {
  const manifest = readManifest(path);
  const baseRef = baseRefOf(manifest);
  const settings = manifest.sources.length > 0 ? { ...options.settings, sources: manifest.sources } : options.settings;
  const opened = await openLayerBase({ ...options, settings }, { sysroot: '/', repo: options.repo, base: baseRef }, options.mode === 'commit');
  const { contents } = opened;
  const repo = contents.base.repo;
  const previousCommit = await repo.resolve(manifest.branch);
  const previous = previousCommit ? { commit: previousCommit, info: await repo.commitInfo(previousCommit) } : undefined;
  const { plan, skipScripts } = await planRequest(
    contents,
    opened.env,
    { install: manifest.packages, localFiles: manifest.localFiles, layered: [], drop: [] },
    { skipScripts: manifest.skipScripts, ...(options.onResolved ? { onResolved: options.onResolved } : {}) },
    options,
  );
  const result: ComposeResult = {
    manifest: manifest.path,
    branch: manifest.branch,
    base: { ref: baseRef, commit: contents.base.commit },
    plan,
    ...(previous ? { previous: previous.commit } : {}),
    unchanged: previous !== undefined && sameBuild(previous.info, manifest, contents.base.commit, plan),
    diff: diffPackages(parseStatePackages(previous?.info.metadata[COMPOSE_KEYS.packages]), plan.packages),
  };
  if (result.unchanged || options.mode === 'dry-run') return result;
  const build: Build = { options: { ...options, settings }, contents, packages: { env: opened.env }, plan, skipScripts };
  await dropStaleWorkingRefs(repo);
  const tree = await buildTree(build, workingRef(), previous?.commit);
  const commit = await repo.commit({
    branch: manifest.branch,
    trees: [{ ref: tree }],
    ...(previous ? { parent: previous.commit } : {}),
    subject: `Compose ${basename(manifest.path)}: ${plan.requested.join(', ') || 'nothing'} on ${baseRef}`,
    ...(manifest.description !== undefined ? { body: manifest.description } : {}),
    metadata: branchMetadata(manifest, baseRef, contents, plan, skipScripts),
  });
  return { ...result, commit };
}

/** The build's ref while it is made: deleted once the tree is on the branch (or the build failed). */
export function workingRef(): string {
  return `deblayer/compose/${process.pid}`;
}

/** Working refs of builds that were killed: their process is gone, and so is any use of the ref. */
async function dropStaleWorkingRefs(repo: OstreeRepo): Promise<void> {
  for (const ref of await repo.refs('deblayer/compose')) {
    const pid = Number(ref.split('/').pop());
    if (Number.isInteger(pid) && pid !== process.pid && !isRunning(pid)) await repo.deleteRef(ref);
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function sameBuild(info: CommitInfo, manifest: Manifest, baseCommit: string, plan: Plan): boolean {
  const m = info.metadata;
  return m[COMPOSE_KEYS.digest] === manifest.digest && m[COMPOSE_KEYS.base] === baseCommit && m[COMPOSE_KEYS.packages] === formatStatePackages(plan.packages);
}

export interface Build {
  options: ComposeOptions;
  contents: BaseContents;
  /** apt fetches what the package cache lacks, or (--verify) every package is in the cache already, by package ref. */
  packages: { env: AptEnvironment } | { cached: Map<string, CachedPackage> };
  plan: Plan;
  skipScripts: string[];
}

/**
 * The stages from fetch to configure, on the working REF; returns the
 * configured commit, whose tree the branch commit takes. FOLLOWS is the commit
 * the build follows (the branch's previous one): its accounts keep their ids.
 */
export async function buildTree(b: Build, ref: string, follows: string | undefined): Promise<string> {
  const { options, contents, plan, skipScripts } = b;
  const repo = contents.base.repo;
  const packageCache = new PackageCache(repo, options.settings.cacheDir);
  const fetched: Fetched = 'env' in b.packages
    ? await fetchPackages(b.packages.env, plan, packageCache, {
        useCache: true,
        ...(options.cacheOnly !== undefined ? { cacheOnly: options.cacheOnly } : {}),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
        ...(options.onDownload ? { onDownload: options.onDownload } : {}),
      }, options)
    : { result: { files: new Map(), downloaded: [], cached: [] }, cached: b.packages.cached, missing: [] };
  const { packages } = await importPackages(packageCache, plan, fetched, options);
  try {
    const origin = nextOrigin({ requested: [], requestedLocal: [], other: {} }, undefined, plan, contents.base.commit, skipScripts);
    const composed = await composeState({ contents, plan, packages, origin, ref, skipScripts }, options);
    if (!composed.configure) return composed.commit.checksum;
    const configured = await configureState(composed, {
      contents,
      packages,
      skipScripts,
      previousSysusers: await previousSysusers(b, follows),
      output: [],
      ...(options.onScriptLine ? { onLine: options.onScriptLine } : {}),
      ...(options.onNotice ? { onNotice: options.onNotice } : {}),
    }, options);
    return configured.commit.checksum;
  } finally {
    if (await repo.resolve(ref)) await repo.deleteRef(ref);
  }
}

/** The sysusers.d lines of the base and of the commit the build follows: their accounts keep their ids. */
async function previousSysusers(b: Build, follows: string | undefined): Promise<string> {
  const repo = b.contents.base.repo;
  const texts = await Promise.all([b.contents.base.commit, ...(follows ? [follows] : [])].map((c) => repo.cat(c, `usr/${SYSUSERS_CONF}`)));
  return texts.map((t) => t?.toString('utf8') ?? '').join('');
}

/**
 * The branch commit's metadata: the base's own (its version, where its dpkg
 * database is, whether it boots), the manifest's Metadata-KEY fields (keys in
 * lower case, so Metadata-Version is ostree's `version`), and what the build was.
 */
function branchMetadata(manifest: Manifest, baseRef: string, contents: BaseContents, plan: Plan, skipScripts: string[]): Record<string, string> {
  const inherited = Object.entries(contents.base.info.metadata).filter(
    (e): e is [string, string] => typeof e[1] === 'string' && !STATE_KEYS.includes(e[0]) && !e[0].startsWith('deblayer.compose.'),
  );
  return {
    ...Object.fromEntries(inherited),
    ...Object.fromEntries(Object.entries(manifest.metadata).map(([k, v]) => [k.toLowerCase(), v])),
    [COMPOSE_KEYS.manifest]: basename(manifest.path),
    [COMPOSE_KEYS.digest]: manifest.digest,
    [COMPOSE_KEYS.base]: contents.base.commit,
    [COMPOSE_KEYS.baseRef]: baseRef,
    [COMPOSE_KEYS.requested]: plan.requested.join(' '),
    [COMPOSE_KEYS.packages]: formatStatePackages(plan.packages),
    ...(skipScripts.length > 0 ? { [COMPOSE_KEYS.skipScripts]: skipScripts.join(' ') } : {}),
  };
}
