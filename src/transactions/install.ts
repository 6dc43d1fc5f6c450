// install and uninstall: a change to the layered set of the deployment the
// sysroot boots next (or a dry run of it against any base), run through the
// stages of src/transactions/layer.ts. A deploying one is recorded in the
// stateroot's layer database, failed ones too.

import { requireRoot, UsageError } from '../errors.js';
import type { Change } from '../pipeline/request.js';
import { layer, openLayerBase, resolvesAgainstState, type InstallResult, type LayerOptions } from './layer.js';
import { recordedTransaction } from './recorded.js';
import { rememberNextResolver } from '../apt/ahead.js';

export type { InstallResult, LayerOptions };

export async function install(options: LayerOptions, change: Change): Promise<InstallResult> {
  const command = options.command ?? (change.kind === 'uninstall' ? 'uninstall' : 'install');
  const deploying = options.mode === 'deploy';
  if (deploying) {
    requireRoot(`deblayer ${command}`);
    if (options.selector.base !== undefined) throw onBase();
  }
  const { contents, env, state } = await openLayerBase(options, options.selector, deploying, resolvesAgainstState(change));
  // Until a deploy changes it, the next install or uninstall here resolves against this same state.
  if (options.selector.base === undefined && resolvesAgainstState(change)) rememberNextResolver({ sysroot: options.selector.sysroot, cacheDir: options.settings.cacheDir }, env.invocation);
  const deployment = contents.base.deployment;
  const withState = state ? { state } : {};
  if (options.mode !== 'deploy') return layer(options, change, { mode: options.mode, contents, env, deployment, ...withState });
  if (!deployment) throw onBase();
  // A database that cannot be read stops the transaction before any change.
  return recordedTransaction(
    { sysroot: options.selector.sysroot, stateroot: deployment.stateroot, repoPath: contents.base.repo.path, command, argv: options.argv ?? [] },
    (recording) => layer(options, change, { mode: 'deploy', contents, env, deployment, recording, ...withState }),
    (result) => (result.deployed ? 'ok' : 'unchanged'),
  );
}

function onBase(): UsageError {
  return new UsageError('install deploys onto a sysroot deployment: with --base, use --dry-run or --download-only');
}
