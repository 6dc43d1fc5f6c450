// install: resolve the request against the base with apt (--dry-run stops
// here), fetch the .deb files (--download-only stops here), import each into
// the package cache, compose base + packages + dpkg database into a new
// commit, and deploy it with an origin that records the requests.
//
// Every deployment is derived, never patched: the layered set of the current
// deployment plus the new requests is resolved again from the base.

import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { LOCAL_PACKAGES, type AptSettings } from '../apt/environment.js';
import { fetchKey, fetchPlan, type FetchResult } from '../apt/fetch.js';
import type { Plan } from '../apt/plan.js';
import { resolvePlan, type Request } from '../apt/resolve.js';
import type { BaseSelector } from '../base/select.js';
import { composeCommit, ownersFromInfo, type BaseOwnership } from '../compose/compose.js';
import { PackageCache, packageRef, type CachedPackage } from '../compose/package-cache.js';
import { lookupPaths, prestartLibostree } from '../exec/libostree.js';
import { readDeploymentOrigin } from '../deploy/origin-file.js';
import { formatOrigin, type Origin } from '../deploy/origin.js';
import { deployCommit } from '../deploy/deploy.js';
import { DeblayerError, requireRoot, UsageError } from '../errors.js';
import { OstreeSysroot, type Deployment, type OstreeRepo } from '../exec/ostree.js';
import { openBaseApt, type BaseAptOptions } from './base-apt.js';
import type { AptEnvironment } from '../apt/environment.js';
import type { BaseContents } from '../base/select.js';
import { nextStateNumber, recordedTransaction, type Recording } from './recorded.js';
import { needsConfiguring, fileTriggerPaths } from '../scripts/triggers.js';
import { runScripts } from '../scripts/run-scripts.js';
import type { PackageOutput } from '../scripts/dpkg-output.js';
import { OLD_SYSUSERS_CONF, SYSUSERS_CONF } from '../scripts/sysusers.js';
import type { KnownAccount } from '../base/accounts.js';
import { timedStep } from '../steps.js';


export type InstallStep = 'resolve' | 'download' | 'import' | 'compose' | 'scripts' | 'deploy';

export interface InstallOptions extends BaseAptOptions {
  selector: BaseSelector;
  settings: AptSettings;
  /** install: names and local files to add; uninstall: `drop` names to remove from the layered set. */
  request: Request;
  mode: 'dry-run' | 'download-only' | 'deploy';
  onResolved?: (plan: Plan) => void;
  /** Asked before anything is changed (a prompt on a terminal); false aborts. */
  confirm?: (plan: Plan) => Promise<boolean>;
  /** install --skip-scripts: packages whose maintainer scripts are not run (kept in the origin). */
  skipScripts?: string[];
  /** uninstall --idempotent: names that are not layered are ignored, not an error. */
  idempotent?: boolean;
  /** upgrade: the deployment whose requests are recomposed on the base the selector names. */
  deployment?: Deployment;
  /** Recompose even when the request adds nothing (upgrade). */
  recompose?: boolean;
  onStart?: (step: InstallStep, detail?: string) => void;
  onStep?: (step: InstallStep, seconds: number) => void;
  /** A transaction already recorded by the caller (upgrade records its pull too). */
  recording?: Recording;
  /** Each line maintainer scripts and dpkg print (the CLI shows them with --verbose). */
  onScriptLine?: (line: string) => void;
  /** Notes for the user from the scripts stage (secrets left out of the commit, ...). */
  onNotice?: (line: string) => void;
  /** For the layer database: the command and its arguments as the user gave them. */
  command?: string;
  argv?: string[];
}

export interface Deployed {
  commit: string;
  ref: string;
  /** The new deployment's directory. */
  path: string;
  staged: boolean;
  imported: string[];
}

export interface InstallResult {
  plan: Plan;
  fetched?: FetchResult;
  deployed?: Deployed;
  /** Everything requested is layered already: nothing was changed. */
  alreadyLayered?: string[];
  /** uninstall --idempotent of packages that are not layered: nothing was changed. */
  notLayered?: string[];
}


export async function install(options: InstallOptions): Promise<InstallResult> {
  if (options.mode === 'deploy') requireRoot(`deblayer ${options.command ?? 'install'}`);
  // Composition reads the base and commits through libostree: its python starts while apt resolves.
  if (options.mode === 'deploy') prestartLibostree();
  if (options.mode === 'deploy' && options.selector.base !== undefined && !options.deployment) {
    throw new UsageError('install deploys onto a sysroot deployment: with --base, use --dry-run or --download-only');
  }
  const { contents, env } = await openBaseApt(options.selector, options.settings, options);
  // apt's cache opens while the transaction is recorded and the origin read.
  env.prestartLibapt();
  const deployment = options.deployment ?? contents.base.deployment;
  if (options.mode === 'deploy' && !deployment) {
    throw new UsageError('install deploys onto a sysroot deployment: with --base, use --dry-run or --download-only');
  }
  if (options.mode !== 'deploy') return layer(options, contents, env, undefined);
  if (options.recording) return layer(options, contents, env, options.recording);
  // Every deploying transaction is recorded in the stateroot's layer database,
  // failed ones too; a database that cannot be read stops it before any change.
  return recordedTransaction(
    {
      sysroot: options.selector.sysroot,
      stateroot: deployment!.stateroot,
      repoPath: contents.base.repo.path,
      command: options.command ?? 'install',
      argv: options.argv ?? [],
    },
    (recording) => layer(options, contents, env, recording),
    (result) => (result.deployed ? 'ok' : 'unchanged'),
  );
}

async function layer(
  options: InstallOptions,
  contents: BaseContents,
  env: AptEnvironment,
  record: Recording | undefined,
): Promise<InstallResult> {
  const deployment = options.deployment ?? contents.base.deployment;
  const sysroot = new OstreeSysroot(options.selector.sysroot);
  const origin: Origin = (deployment ? readDeploymentOrigin(sysroot, deployment) : undefined) ?? { requested: [], requestedLocal: [], other: {} };

  const layered = origin.requested;
  const localDir = join(options.settings.cacheDir, LOCAL_PACKAGES);
  const keptLocal = origin.requestedLocal
    .filter((l) => !(options.request.drop ?? []).includes(l.replace(/_.*$/, '')))
    .map((l) => {
      const file = join(localDir, `${l}.deb`);
      if (!existsSync(file)) {
        throw new DeblayerError(`the layered local package ${l} is no longer in ${localDir}: install its .deb file again`);
      }
      return file;
    });
  const names = options.request.install.map((s) => s.replace(/[=:].*$/, ''));
  const already = names.filter((n) => layered.includes(n));
  const isInstall = (options.request.drop ?? []).length === 0;
  if (!options.recompose && isInstall && already.length === names.length && options.request.localFiles.length === 0 && options.mode === 'deploy') {
    const plan = await resolvePlan(contents, env, { install: [], localFiles: keptLocal, layered });
    return { plan, alreadyLayered: already };
  }
  const localNames = origin.requestedLocal.map((l) => l.replace(/_.*$/, ''));
  let drop = options.request.drop ?? [];
  if (options.idempotent && drop.length > 0) {
    const notLayered = drop.filter((n) => !layered.includes(n) && !localNames.includes(n));
    drop = drop.filter((n) => !notLayered.includes(n));
    if (drop.length === 0) {
      const plan = await resolvePlan(contents, env, { install: [], localFiles: keptLocal, layered });
      return { plan, notLayered };
    }
  }
  const request: Request = {
    ...options.request,
    install: options.request.install.filter((s) => !layered.includes(s.replace(/[=:].*$/, ''))),
    localFiles: [...keptLocal, ...options.request.localFiles],
    layered: [...layered, ...localNames.filter((n) => drop.includes(n))],
    drop,
  };
  const plan = await timedStep(options, 'resolve', () => resolvePlan(contents, env, request));
  options.onResolved?.(plan);
  if (options.mode === 'deploy' && options.confirm && !(await options.confirm(plan))) {
    throw new DeblayerError('Abort.');
  }
  // --skip-scripts names packages of this plan; the origin's list is kept for those still layered.
  const unknownSkip = (options.skipScripts ?? []).filter((n) => !plan.packages.some((p) => p.name === n));
  if (unknownSkip.length > 0) throw new UsageError(`--skip-scripts ${unknownSkip.join(', ')}: not a package of this transaction`);
  const skipScripts = [...new Set([...(origin.skipScripts ?? []), ...(options.skipScripts ?? [])])].filter((n) => plan.packages.some((p) => p.name === n));
  if (options.mode === 'dry-run') return { plan };
  const repo = contents.base.repo;
  const packageCache = new PackageCache(repo, options.settings.cacheDir);
  const refOf = (p: { name: string; version: string; architecture: string }) => packageRef(p.name, p.version, p.architecture);
  // Packages already in the package cache need no .deb file: only the others are fetched.
  const cached =
    options.mode === 'deploy'
      ? await packageCache.lookup(plan.packages.map((p) => ({ name: p.name, version: p.version, architecture: p.architecture })))
      : new Map<string, CachedPackage>();
  const missing = plan.packages.filter((p) => !cached.has(refOf(p)));
  const fetched = await timedStep(options, 'download', () =>
    fetchPlan(env, { ...plan, packages: missing }, {
      ...(options.cacheOnly !== undefined ? { cacheOnly: options.cacheOnly } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    }),
  );
  if (options.mode === 'download-only') return { plan, fetched };

  const imported: string[] = [];
  const packages: CachedPackage[] = await timedStep(
    options,
    'import',
    async () => {
      const fresh = await packageCache.import(
        missing.map((p) => fetched.files.get(fetchKey(p))!),
        missing.map((p) => ({ name: p.name, version: p.version, architecture: p.architecture })),
        (name) => imported.push(name),
      );
      for (const p of fresh) cached.set(p.ref, p);
      return plan.packages.map((p) => cached.get(refOf(p))!);
    },
    `${missing.length} of ${plan.packages.length} packages`,
  );

  // Local files are kept, once imported, so that later transactions can resolve them again.
  mkdirSync(localDir, { recursive: true });
  for (const p of plan.packages) {
    if (p.source.kind !== 'local') continue;
    const kept = join(localDir, `${p.name}_${p.version}_${p.architecture}.deb`);
    if (p.source.path !== kept) copyFileSync(p.source.path, kept);
  }

  const newOrigin: Origin = {
    ...origin,
    ...(origin.baseRefspec !== undefined ? { baseRefspec: origin.baseRefspec } : deployment?.refspec ? { baseRefspec: deployment.refspec } : {}),
    requested: [...plan.requested.filter((n) => !plan.packages.some((p) => p.name === n && p.source.kind === 'local')), ...plan.inactive],
    requestedLocal: plan.packages.filter((p) => p.source.kind === 'local').map((p) => `${p.name}_${p.version}_${p.architecture}`),
    baseCommit: contents.base.commit,
    ...(skipScripts.length > 0 ? { skipScripts } : {}),
  };
  if (skipScripts.length === 0) delete newOrigin.skipScripts;
  const unlayered = plan.packages.length === 0;
  // Layer state N: the database's numbering, and the ref deblayer/state/N that keeps its commit.
  const next = nextStateNumber(record, record?.stateRefs ?? (await repo.refs('deblayer/state')));
  // Maintainer scripts and triggers: when any package has some (or a file
  // under a file trigger of the base), the composed commit lists the packages
  // `unpacked`, and the scripts stage configures them and commits what that
  // changed on top; otherwise they are listed `installed` directly.
  const databasePath = contents.database.path;
  const baseFileTriggers = unlayered
    ? []
    : fileTriggerPaths(
        await contents.base.cache.text(
          contents.base.commit,
          'file-triggers',
          async () => (await repo.cat(contents.base.commit, `${databasePath}/triggers/File`))?.toString('utf8') ?? '',
        ),
      );
  const configure = !unlayered && needsConfiguring(packages.map((p) => p.record), baseFileTriggers, skipScripts);
  const ref = `deblayer/state/${next}`;
  const subject = `Layer ${plan.requested.join(', ') || 'nothing'} on ${contents.base.label}`;
  const metadata: Record<string, string> = {
    'deblayer.base': contents.base.commit,
    'deblayer.requested': plan.requested.join(' '),
    'deblayer.packages': plan.packages.map((p) => `${p.name}=${p.version}`).join(' '),
    // The origin this state is deployed with, so that rollback --to can deploy it again.
    'deblayer.origin': formatOrigin(newOrigin),
    ...(typeof contents.base.info.metadata.version === 'string' ? { version: contents.base.info.metadata.version } : {}),
  };
  let commit = unlayered
    ? { checksum: contents.base.commit, ref: origin.baseRefspec ?? contents.base.commit }
    : await timedStep(options, 'compose', async () => {
      let owners: Promise<BaseOwnership> | undefined;
      const checksum = await composeCommit({
        repo,
        contents,
        packages,
        baseEntries: (paths) => lookupPaths(repo.path, contents.base.commit, paths),
        baseOwners: () => (owners ??= baseOwners(repo, contents.base.commit, contents.database.path)),
        branch: ref,
        subject,
        metadata,
        state: configure ? 'unpacked' : 'installed',
      });
      return { checksum, ref };
    });

  let accounts: KnownAccount[] = [];
  if (configure) {
    const deploymentDir = deployment ? sysroot.deploymentPath(deployment) : undefined;
    const output: PackageOutput[] = [];
    try {
      commit = await timedStep(options, 'scripts', async () => {
        const result = await runScripts({
          repo,
          composed: commit.checksum,
          base: contents.base.commit,
          database: databasePath,
          records: packages.map((p) => p.record),
          ...(deploymentDir ? { hostEtc: join(deploymentDir, 'etc') } : {}),
          ...(deploymentDir ? { previousSysusers: previousSysusers(deploymentDir) } : {}),
          ...(record ? { knownAccounts: record.db.accounts() } : {}),
          skip: skipScripts,
          branch: ref,
          subject,
          metadata: { ...metadata, 'deblayer.scripts': 'configured' },
          output,
          ...(options.onScriptLine ? { onLine: options.onScriptLine } : {}),
        });
        for (const n of result.notices) options.onNotice?.(n);
        accounts = result.accounts;
        return { checksum: result.commit, ref };
      }, `${packages.length} packages`);
    } finally {
      if (record) record.db.recordScriptOutput(record.txn, output);
    }
  }

  // The state is recorded before the deploy and given its deployment after:
  // a kill in between leaves a pending state that the next transaction
  // settles from what ostree did (src/transactions/leftovers.ts).
  if (record) {
    for (const p of packages) record.db.recordCachedPackage(p.ref, p.commit, p.record.package, p.record.version, p.record.architecture);
    record.db.recordState(record.txn, next, {
      stateroot: deployment!.stateroot,
      baseCommit: contents.base.commit,
      ...(newOrigin.baseRefspec ? { baseRefspec: newOrigin.baseRefspec } : {}),
      commit: commit.checksum,
      ...(unlayered ? {} : { ref: commit.ref }),
      requested: newOrigin.requested,
      requestedLocal: newOrigin.requestedLocal,
      skipScripts,
      deployment: '',
      packages: plan.packages.map((p) => ({
        name: p.name,
        version: p.version,
        architecture: p.architecture,
        downloadSize: p.downloadSize,
        installedSize: p.installedSize,
        reason: p.reason,
        ...(p.requiredBy ? { requiredBy: p.requiredBy } : {}),
      })),
    });
  }
  let deployed: Awaited<ReturnType<typeof deployCommit>>;
  try {
    deployed = await timedStep(options, 'deploy', () => deployCommit(sysroot, commit.checksum, newOrigin, deployment!.stateroot, options.selector.sysroot));
  } catch (err) {
    record?.db.dropState(next);
    throw err;
  }
  record?.db.setStateDeployment(next, deployed.path.split('/').pop()!);
  // Once deployed: a failed transaction leaves the record as it was (the next
  // one reads a killed one's accounts back from its deployment's lines).
  record?.db.recordAccounts(accounts, next);
  return {
    plan,
    fetched,
    deployed: { commit: commit.checksum, ref: commit.ref, path: deployed.path, staged: deployed.staged, imported },
  };
}

async function baseOwners(repo: OstreeRepo, commit: string, database: string): Promise<BaseOwnership> {
  mkdirSync(join(repo.path, 'tmp'), { recursive: true });
  const dir = mkdtempSync(join(repo.path, 'tmp', 'deblayer-info-'));
  try {
    await repo.checkoutCopy(commit, `${database}/info`, join(dir, 'info'));
    return ownersFromInfo(join(dir, 'info'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The sysusers.d lines deblayer wrote for a deployment (under either name it has used). */
function previousSysusers(deploymentDir: string): string {
  return [SYSUSERS_CONF, OLD_SYSUSERS_CONF]
    .map((f) => join(deploymentDir, 'usr', f))
    .filter((p) => existsSync(p))
    .map((p) => readFileSync(p, 'utf8'))
    .join('');
}
