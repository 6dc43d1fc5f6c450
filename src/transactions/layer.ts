// The stages of a layering transaction in order (src/pipeline/stages.ts names
// them): install, uninstall and upgrade each say what changes and where, and
// run this. A dry run stops after the plan, --download-only after the fetch;
// a deploy goes on to compose, configure, record and deploy.

import { join } from 'node:path';
import { LOCAL_PACKAGES, type AptEnvironment, type AptSettings } from '../apt/environment.js';
import type { FetchResult } from '../apt/fetch.js';
import { planChanges, type Plan } from '../apt/plan.js';
import { readCurrentState, stateEnvironment, type CurrentState } from '../apt/current-state.js';
import { leftOut, replacedNames, type BaseContents, type BaseSelector } from '../base/select.js';
import { PackageCache } from '../compose/package-cache.js';
import { deployCommit } from '../deploy/deploy.js';
import { readDeploymentOrigin } from '../deploy/origin-file.js';
import type { Origin } from '../deploy/origin.js';
import { OstreeSysroot, type Deployment } from '../exec/ostree.js';
import { composeState } from '../pipeline/compose.js';
import { configureState, type Configured } from '../pipeline/configure.js';
import { fetchPackages, type Fetched } from '../pipeline/fetch.js';
import { importPackages, keepLocalFiles, type Imported } from '../pipeline/import.js';
import { nextOrigin } from '../pipeline/origin.js';
import { planRequest, resolveRequest } from '../pipeline/plan.js';
import { forgetState, knownAccounts, nextStateNumber, recordDeployed, recordScriptOutput, recordState, type Recording } from '../pipeline/record.js';
import { reconcile, type Change, type RequestChange } from '../pipeline/request.js';
import type { StageHooks } from '../pipeline/stages.js';
import type { PackageOutput } from '../scripts/dpkg-output.js';
import { timedStep } from '../steps.js';
import { incrementalKind, untrustedBecause, type Made } from '../pipeline/basis.js';
import { purgeState } from '../pipeline/purge.js';
import { removeBasePackages } from '../pipeline/remove-base.js';
import { stateMetadata } from '../pipeline/compose.js';
import type { StatusEntry } from '../base/dpkg-status.js';
import { rememberDeployedState } from '../pipeline/next-resolver.js';
import { localIdName, specName, stateRef } from '../vocabulary/packages.js';
import type { BaseAptOptions } from './base-apt.js';
import { lookupPaths, prestartLibostree } from '../exec/libostree.js';
import { openBaseApt } from './base-apt.js';

export interface LayerOptions extends BaseAptOptions, StageHooks {
  selector: BaseSelector;
  settings: AptSettings;
  mode: 'dry-run' | 'download-only' | 'deploy';
  onResolved?: (plan: Plan) => void;
  /** Asked before anything is changed (a prompt on a terminal); false aborts. */
  confirm?: (plan: Plan) => Promise<boolean>;
  /** install --skip-scripts: packages whose maintainer scripts are not run (kept in the origin). */
  skipScripts?: string[];
  /** Each line maintainer scripts and dpkg print (the CLI shows them with --verbose). */
  onScriptLine?: (line: string) => void;
  /** Notes for the user from the scripts stage (secrets left out of the commit, ...). */
  onNotice?: (line: string) => void;
  /** install, uninstall --rebuild: derive the state from the base even when it could be built on the current one. */
  rebuild?: boolean;
  /** Told whether the state is built on the current one or derived from the base, and why it is derived. */
  onMade?: (made: Made, why?: string) => void;
  /** For the layer database: the command and its arguments as the user gave them. */
  command?: string;
  argv?: string[];
}

/**
 * Where the stages run: a base read and its apt, the layered state of the
 * deployment when it has one (ENV is that state's when the change is
 * resolved against it), and for a deploy, the deployment and the
 * transaction's record.
 */
export type Target =
  | { mode: 'dry-run' | 'download-only'; contents: BaseContents; env: AptEnvironment; deployment: Deployment | undefined; state?: CurrentState }
  | { mode: 'deploy'; contents: BaseContents; env: AptEnvironment; deployment: Deployment; recording: Recording; state?: CurrentState };
type Deploying = Extract<Target, { mode: 'deploy' }>;

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
  /** apply: the requested names added and dropped. */
  requests?: RequestChange;
}

/**
 * The base a layering transaction reads, the layered state of its deployment
 * when it has one, and apt prepared for the base or, with AGAINSTSTATE
 * (install, uninstall), for that state. The python helpers start now, so
 * that their start overlaps apt's work: libostree's (composition) only when
 * the transaction will deploy.
 */
export async function openLayerBase(
  options: BaseAptOptions & { settings: AptSettings },
  selector: BaseSelector,
  deploying: boolean,
  againstState = false,
): Promise<{ contents: BaseContents; env: AptEnvironment; state?: CurrentState }> {
  if (deploying) prestartLibostree();
  const { contents, env: baseEnv } = await openBaseApt(selector, options.settings, options);
  const state = await readCurrentState(contents);
  const env = state && againstState ? stateEnvironment(baseEnv, contents, state) : baseEnv;
  env.prestartLibapt();
  return { contents, env, ...(state ? { state } : {}) };
}

/** install, uninstall and override ask apt for the change alone (an override: none); the others resolve the whole set from the base. */
export function resolvesAgainstState(change: Change): boolean {
  return change.kind === 'install' || change.kind === 'uninstall' || change.kind === 'override';
}

const NO_ORIGIN: Origin = { requested: [], requestedLocal: [], other: {} };

/** What a transaction built on the current state fetches when it adds nothing. */
const NOTHING_FETCHED: Fetched = { result: { files: new Map(), downloaded: [], cached: [] }, cached: new Map(), missing: [] };

export async function layer(options: LayerOptions, change: Change, target: Target): Promise<InstallResult> {
  const { contents, env } = target;
  const sysroot = new OstreeSysroot(options.selector.sysroot);
  const origin = applied((target.deployment ? readDeploymentOrigin(sysroot, target.deployment) : undefined) ?? NO_ORIGIN, contents);
  const localDir = join(options.settings.cacheDir, LOCAL_PACKAGES);
  const reconciled = reconcile(origin, change, localDir, new Map(target.state?.packages.map((p) => [p.package, p.version])));
  const against = { ...(target.state ? { state: target.state } : {}), incremental: resolvesAgainstState(change) };
  if (reconciled.kind === 'unchanged') {
    const { kind: _, current, ...unchanged } = reconciled;
    return { plan: await resolveRequest(contents, env, current, { ...against, incremental: true }), ...unchanged };
  }
  const packageCache = new PackageCache(contents.base.repo, options.settings.cacheDir);
  if (target.mode === 'deploy') packageCache.readRefsAhead();
  const { plan, skipScripts } = await planRequest(
    contents,
    env,
    reconciled.request,
    {
      ...((change.kind === 'install' || change.kind === 'set') && options.skipScripts ? { skipScripts: options.skipScripts } : {}),
      ...(origin.skipScripts ? { originSkipScripts: origin.skipScripts } : {}),
      ...(options.onResolved ? { onResolved: options.onResolved } : {}),
      ...(target.mode === 'deploy' && options.confirm ? { confirm: options.confirm } : {}),
      ...against,
    },
    options,
  );
  const requests = reconciled.requests ? { requests: reconciled.requests } : {};
  if (target.mode === 'dry-run') return { plan, ...requests };
  const built = target.mode === 'deploy' ? await chooseBasis(options, change, target, origin, plan, skipScripts) : undefined;
  // Built on the current state, only the packages it adds are fetched and imported.
  const work = built?.kind === 'install' ? { ...plan, packages: planChanges(plan).added } : built ? { ...plan, packages: [] } : plan;
  // An uninstall, or an install that only changes the requests, has nothing to fetch or import.
  const nothingNew = built !== undefined && work.packages.length === 0;
  const fetched = nothingNew ? NOTHING_FETCHED : await fetchPackages(env, work, packageCache, {
    useCache: target.mode === 'deploy',
    ...(options.cacheOnly !== undefined ? { cacheOnly: options.cacheOnly } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.onDownload ? { onDownload: options.onDownload } : {}),
  }, options);
  if (target.mode !== 'deploy') return { plan, fetched: fetched.result, ...requests };
  const imported = nothingNew ? { packages: [], imported: [] } : await importPackages(packageCache, work, fetched, options);
  keepLocalFiles(plan, localDir);
  const rebaseTo = change.kind === 'recompose' ? change.baseRefspec : undefined;
  const layered = { sysroot, origin, plan, skipScripts, fetched, imported, packageCache, ...(built ? { built } : {}), ...(rebaseTo ? { rebaseTo } : {}) };
  return { ...(await commitAndDeploy(options, target, layered)), ...requests };
}

/** ORIGIN with only the replacements of base packages that CONTENTS leave out: a new base may have caught up with some. */
function applied(origin: Origin, contents: BaseContents): Origin {
  const replaced = replacedNames(contents);
  const { overrideReplace, overrideReplaceLocal, ...rest } = origin;
  const replace = (overrideReplace ?? []).filter((s) => replaced.has(specName(s)));
  const replaceLocal = (overrideReplaceLocal ?? []).filter((id) => replaced.has(localIdName(id)));
  return { ...rest, ...(replace.length > 0 ? { overrideReplace: replace } : {}), ...(replaceLocal.length > 0 ? { overrideReplaceLocal: replaceLocal } : {}) };
}

interface Layered {
  sysroot: OstreeSysroot;
  origin: Origin;
  plan: Plan;
  skipScripts: string[];
  fetched: Fetched;
  imported: Imported;
  /** rebase: the refspec the new origin follows instead of the old one. */
  rebaseTo?: string;
  packageCache: PackageCache;
  /** Built on the current state rather than derived from the base. */
  built?: Incremental;
}

/** A transaction built on the current state, which the plan is told against. */
interface Incremental {
  /** remove-base: base packages purged from it (override remove), the layered set as it is. */
  kind: 'install' | 'uninstall' | 'remove-base';
  state: CurrentState;
  /** remove-base: what is purged. */
  removing?: StatusEntry[];
}

/**
 * Whether this transaction builds on the current state (install and uninstall
 * on an unchanged base, a state this deblayer made) or derives the state from
 * the base; the CLI is told which, and why.
 */
async function chooseBasis(options: LayerOptions, change: Change, target: Deploying, origin: Origin, plan: Plan, skipScripts: string[]): Promise<Incremental | undefined> {
  const { kind } = change;
  const derive = (why: string) => {
    options.onMade?.('derived', why);
    return undefined;
  };
  if (kind === 'override') return overrideBasis(options, change, target, origin, skipScripts, derive);
  if (kind !== 'install' && kind !== 'uninstall') return derive(kind === 'recompose' ? 'a new base' : 'a new layered set');
  if (options.rebuild) return derive('--rebuild');
  const { contents, state } = target;
  const why = untrustedBecause(state, contents, origin, skipScripts);
  if (why !== undefined || !state) return derive(why ?? 'nothing is layered yet');
  const incremental = incrementalKind(kind, plan);
  if (!incremental) return derive(kind === 'install' ? 'it changes the version of a layered package' : 'nothing stays layered');
  // dpkg purges: a base without it (a bare tree, not Debian) has every uninstall derived.
  if (incremental === 'uninstall' && !(await lookupPaths(contents.base.repo.path, state.commit, ['usr/bin/dpkg']))['usr/bin/dpkg']) return derive('the base has no dpkg');
  options.onMade?.('incremental');
  return { kind: incremental, state };
}

/**
 * override: a removal alone is purged from the current state when it can be
 * trusted; a base package brought back means deriving the state from the base.
 */
async function overrideBasis(
  options: LayerOptions,
  change: Extract<Change, { kind: 'override' }>,
  target: Deploying,
  origin: Origin,
  skipScripts: string[],
  derive: (why: string) => undefined,
): Promise<Incremental | undefined> {
  if (change.reset.length > 0) return derive('a base package comes back');
  if (change.replace.length + change.replaceLocal.length > 0) return derive('a base package is replaced');
  if (options.rebuild) return derive('--rebuild');
  const { contents, state } = target;
  const removing = (contents.removed ?? []).filter((p) => change.remove.includes(p.package));
  // What the current state goes without already: the removals before this change.
  const before = { ...contents, removed: (contents.removed ?? []).filter((p) => !change.remove.includes(p.package)) };
  const why = untrustedBecause(state, before, origin, skipScripts);
  if (why !== undefined || !state) return derive(why ?? 'nothing is layered yet');
  options.onMade?.('incremental');
  return { kind: 'remove-base', state, removing };
}

async function commitAndDeploy(options: LayerOptions, target: Deploying, l: Layered): Promise<InstallResult> {
  const { contents, deployment, recording } = target;
  const origin = nextOrigin(l.origin, deployment, l.plan, contents.base.commit, l.skipScripts, l.rebaseTo, {
    remove: (contents.removed ?? []).map((p) => p.package),
    replace: (contents.replaced ?? []).map((p) => p.package),
  });
  const state = nextStateNumber(recording);
  const { packages } = l.imported;
  const done = await buildState(options, target, l, origin, state);
  recordState(recording, {
    state,
    stateroot: deployment.stateroot,
    baseCommit: contents.base.commit,
    origin,
    commit: done.commit,
    unlayered: l.plan.packages.length === 0 && leftOut(contents).length === 0,
    made: l.built ? 'incremental' : 'derived',
    skipScripts: l.skipScripts,
    plan: l.plan,
    packages,
  });
  const deploying = timedStep(options, 'deploy', () =>
    deployCommit(l.sysroot, done.commit.checksum, origin, deployment.stateroot, options.selector.sysroot),
  );
  const hinted = rememberDeployedState({ sysroot: options.selector.sysroot, cacheDir: options.settings.cacheDir }, contents, target.env, done.commit.checksum, deploying);
  const deployed = await deploying.catch((err: unknown) => {
    forgetState(recording, state);
    throw err;
  });
  recordDeployed(recording, state, deployed.path, done.accounts);
  await hinted;
  return {
    plan: l.plan,
    fetched: l.fetched.result,
    deployed: { commit: done.commit.checksum, ref: done.commit.ref, path: deployed.path, staged: deployed.staged, imported: l.imported.imported },
  };
}

/**
 * The state's commit: composed and configured, on the base (without the base
 * packages it goes without) or on the current state, or the current state
 * with packages purged.
 */
async function buildState(options: LayerOptions, target: Deploying, l: Layered, origin: Origin, state: number): Promise<Configured> {
  const { contents } = target;
  const ref = stateRef(state);
  const removeFrom = (from: string, packages: StatusEntry[], output: PackageOutput[]) => {
    const subject = `Layer ${l.plan.requested.join(', ') || 'nothing'} on ${contents.base.label} without ${packages.map((p) => p.package).join(', ')}`;
    const metadata = stateMetadata({ contents, plan: l.plan, origin, ...(l.built ? { onto: l.built.state } : {}) });
    // A replaced package's dependents stay: dpkg lets it go, and the replacement, configured next, satisfies them.
    const forceDepends = packages.some((p) => contents.replaced?.includes(p));
    return removeBasePackages({ ...scriptsContext(options, target, l, output), from, packages, ref, subject, metadata, forceDepends }, options);
  };
  if (l.built?.kind === 'remove-base') {
    const { state: onto, removing = [] } = l.built;
    return scriptsRecorded(target, (output) => removeFrom(onto.commit, removing, output));
  }
  if (l.built?.kind === 'uninstall') {
    const { state: onto } = l.built;
    return scriptsRecorded(target, (output) =>
      purgeState(
        { ...scriptsContext(options, target, l, output), plan: l.plan, origin, onto, packageCache: l.packageCache, ref },
        options,
      ),
    );
  }
  const onto = l.built?.state;
  const packages = l.imported.packages;
  // Both stages' script output is one record: the base packages' purge, then the layered packages' configure.
  return scriptsRecorded(target, async (output) => {
    // Derived: the base packages it goes without are purged from the base first, as apt-get removes a package before unpacking what replaces it.
    const trimmed = !onto && leftOut(contents).length > 0 ? await removeFrom(contents.base.commit, leftOut(contents), output) : undefined;
    if (trimmed && l.plan.packages.length === 0) return trimmed;
    const under = trimmed ? { trimmed: trimmed.commit.checksum } : {};
    const composed = await composeState({ contents, plan: l.plan, packages, origin, ref, skipScripts: l.skipScripts, ...(onto ? { onto } : {}), ...under }, options);
    if (!composed.configure) return { ...composed, accounts: trimmed?.accounts ?? [] };
    const preinstsOver = onto?.commit ?? trimmed?.commit.checksum;
    return configureState(composed, { ...scriptsContext(options, target, l, output), packages, skipScripts: l.skipScripts, ...(preinstsOver ? { onto: preinstsOver } : {}) }, options);
  });
}

/** What the scripts of any state see of the deployment, and where their output goes. */
function scriptsContext(options: LayerOptions, target: Deploying, l: Layered, output: PackageOutput[]) {
  return {
    contents: target.contents,
    deploymentDir: l.sysroot.deploymentPath(target.deployment),
    knownAccounts: knownAccounts(target.recording),
    output,
    ...(options.onScriptLine ? { onLine: options.onScriptLine } : {}),
    ...(options.onNotice ? { onNotice: options.onNotice } : {}),
  };
}

/** A scripts stage, with the scripts' output recorded whether it succeeds or not. */
async function scriptsRecorded(target: Deploying, stage: (output: PackageOutput[]) => Promise<Configured>): Promise<Configured> {
  const output: PackageOutput[] = [];
  try {
    return await stage(output);
  } finally {
    recordScriptOutput(target.recording, output);
  }
}
