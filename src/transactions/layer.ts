// The stages of a layering transaction in order (src/pipeline/stages.ts names
// them): install, uninstall and upgrade each say what changes and where, and
// run this. A dry run stops after the plan, --download-only after the fetch;
// a deploy goes on to compose, configure, record and deploy.

import { join } from 'node:path';
import { LOCAL_PACKAGES, type AptEnvironment, type AptSettings } from '../apt/environment.js';
import type { FetchResult } from '../apt/fetch.js';
import type { Plan } from '../apt/plan.js';
import { readCurrentState, stateEnvironment, type CurrentState } from '../apt/current-state.js';
import type { BaseContents, BaseSelector } from '../base/select.js';
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
import { stateRef } from '../vocabulary/packages.js';
import type { BaseAptOptions } from './base-apt.js';
import { prestartLibostree } from '../exec/libostree.js';
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

/** install and uninstall ask apt for the change alone; the others resolve the whole set from the base. */
export function resolvesAgainstState(change: Change): boolean {
  return change.kind === 'install' || change.kind === 'uninstall';
}

const NO_ORIGIN: Origin = { requested: [], requestedLocal: [], other: {} };

export async function layer(options: LayerOptions, change: Change, target: Target): Promise<InstallResult> {
  const { contents, env } = target;
  const sysroot = new OstreeSysroot(options.selector.sysroot);
  const origin = (target.deployment ? readDeploymentOrigin(sysroot, target.deployment) : undefined) ?? NO_ORIGIN;
  const localDir = join(options.settings.cacheDir, LOCAL_PACKAGES);
  const reconciled = reconcile(origin, change, localDir);
  const against = { ...(target.state ? { state: target.state } : {}), incremental: resolvesAgainstState(change) };
  if (reconciled.kind === 'unchanged') {
    const { kind: _, current, ...unchanged } = reconciled;
    return { plan: await resolveRequest(contents, env, current, { ...against, incremental: true }), ...unchanged };
  }
  const { plan, skipScripts } = await planRequest(
    contents,
    env,
    reconciled.request,
    {
      ...(change.kind !== 'uninstall' && change.kind !== 'recompose' && options.skipScripts ? { skipScripts: options.skipScripts } : {}),
      ...(origin.skipScripts ? { originSkipScripts: origin.skipScripts } : {}),
      ...(options.onResolved ? { onResolved: options.onResolved } : {}),
      ...(target.mode === 'deploy' && options.confirm ? { confirm: options.confirm } : {}),
      ...against,
    },
    options,
  );
  const requests = reconciled.requests ? { requests: reconciled.requests } : {};
  if (target.mode === 'dry-run') return { plan, ...requests };
  const packageCache = new PackageCache(contents.base.repo, options.settings.cacheDir);
  const fetched = await fetchPackages(env, plan, packageCache, {
    useCache: target.mode === 'deploy',
    ...(options.cacheOnly !== undefined ? { cacheOnly: options.cacheOnly } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  }, options);
  if (target.mode !== 'deploy') return { plan, fetched: fetched.result, ...requests };
  const imported = await importPackages(packageCache, plan, fetched, options);
  keepLocalFiles(plan, localDir);
  const rebaseTo = change.kind === 'recompose' ? change.baseRefspec : undefined;
  const layered = { sysroot, origin, plan, skipScripts, fetched, imported, ...(rebaseTo ? { rebaseTo } : {}) };
  return { ...(await commitAndDeploy(options, target, layered)), ...requests };
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
}

async function commitAndDeploy(options: LayerOptions, target: Deploying, l: Layered): Promise<InstallResult> {
  const { contents, deployment, recording } = target;
  const origin = nextOrigin(l.origin, deployment, l.plan, contents.base.commit, l.skipScripts, l.rebaseTo);
  const state = nextStateNumber(recording);
  const { packages } = l.imported;
  const composed = await composeState({ contents, plan: l.plan, packages, origin, ref: stateRef(state), skipScripts: l.skipScripts }, options);
  const done = composed.configure ? await configure(options, target, l, composed) : { ...composed, accounts: [] };
  recordState(recording, {
    state,
    stateroot: deployment.stateroot,
    baseCommit: contents.base.commit,
    origin,
    commit: done.commit,
    unlayered: packages.length === 0,
    skipScripts: l.skipScripts,
    plan: l.plan,
    packages,
  });
  const deployed = await timedStep(options, 'deploy', () =>
    deployCommit(l.sysroot, done.commit.checksum, origin, deployment.stateroot, options.selector.sysroot),
  ).catch((err: unknown) => {
    forgetState(recording, state);
    throw err;
  });
  recordDeployed(recording, state, deployed.path, done.accounts);
  return {
    plan: l.plan,
    fetched: l.fetched.result,
    deployed: { commit: done.commit.checksum, ref: done.commit.ref, path: deployed.path, staged: deployed.staged, imported: l.imported.imported },
  };
}

/** The configure stage, with the scripts' output recorded whether it succeeds or not. */
async function configure(options: LayerOptions, target: Deploying, l: Layered, composed: Awaited<ReturnType<typeof composeState>>): Promise<Configured> {
  const output: PackageOutput[] = [];
  try {
    return await configureState(composed, {
      contents: target.contents,
      packages: l.imported.packages,
      skipScripts: l.skipScripts,
      deploymentDir: l.sysroot.deploymentPath(target.deployment),
      knownAccounts: knownAccounts(target.recording),
      output,
      ...(options.onScriptLine ? { onLine: options.onScriptLine } : {}),
      ...(options.onNotice ? { onNotice: options.onNotice } : {}),
    }, options);
  } finally {
    recordScriptOutput(target.recording, output);
  }
}
