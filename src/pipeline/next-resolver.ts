// After a deploy: the apt configuration the next install or uninstall on the
// sysroot will resolve against, left as the hint src/apt/ahead.ts starts libapt
// on. It is the new deployment's layered state (its apt files written now, as
// that transaction would write them), or the base's own when nothing is layered.

import { readCurrentState, stateCommitInfo, stateEnvironment } from '../apt/current-state.js';
import { rememberNextResolver, type ResolverPlace } from '../apt/ahead.js';
import type { AptEnvironment } from '../apt/environment.js';
import type { BaseContents } from '../base/select.js';

/** Leaves the hint for COMMIT once DEPLOYED resolves; resolves in turn, and never rejects (a hint only). */
export async function rememberDeployedState(place: ResolverPlace, contents: BaseContents, env: AptEnvironment, commit: string, deployed: Promise<unknown>): Promise<void> {
  const base = env.base ?? env;
  // The commit's metadata is read while ostree deploys it; its dpkg status then comes from the deployment's files.
  const info = stateCommitInfo(contents, commit);
  try {
    await Promise.all([info, deployed]);
    const state = await readCurrentState(contents, commit);
    rememberNextResolver(place, (state ? stateEnvironment(base, contents, state) : base).invocation);
  } catch {
    // Whatever failed here fails again, with its message, where the next transaction reads the state.
  }
}
