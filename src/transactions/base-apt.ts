// The first steps every transaction shares: pick the base, read what it has,
// and prepare apt's private configuration for it, refreshing the package lists
// when this source set has none yet (unless --cache-only forbids the network).

import { join } from 'node:path';
import { DeblayerError } from '../errors.js';
import { CommitCache } from '../base/commit-cache.js';
import { prepareAptEnvironment, type AptEnvironment, type AptSettings } from '../apt/environment.js';
import { refreshMetadata } from '../apt/refresh.js';
import type { DownloadProgress } from '../apt/fetch.js';
import { dropResolverAhead } from '../apt/ahead.js';
import { readBaseContents, selectBase, withoutBasePackages, type BaseContents, type BaseSelector } from '../base/select.js';
import { readDeploymentOrigin } from '../deploy/origin-file.js';
import { OstreeSysroot } from '../exec/ostree.js';

export interface BaseApt {
  contents: BaseContents;
  env: AptEnvironment;
  refreshed: boolean;
}

export interface BaseAptOptions {
  cacheOnly?: boolean;
  /** Refresh even when lists exist (refresh-md). */
  refresh?: boolean;
  onRefreshStart?: (env: AptEnvironment) => void;
  onProgress?: (line: string) => void;
  /** How far apt's downloads are (lists and .deb files), for a meter. */
  onDownload?: (p: DownloadProgress) => void;
  /**
   * Base packages the deployment goes without (override remove): by default
   * those its origin names, when the base is a deployment's.
   */
  removeBase?: string[];
  /**
   * Given, the names of removeBase that the base does not have are left out
   * and told here (upgrade, rebase: a new base that dropped them); otherwise
   * they are an error.
   */
  onRemovalDropped?: (names: string[]) => void;
}

export async function openBaseApt(selector: BaseSelector, settings: AptSettings, options: BaseAptOptions = {}): Promise<BaseApt> {
  const cache = new CommitCache(join(settings.cacheDir, 'bases'));
  const base = await selectBase({ ...selector, cache });
  const removeBase = options.removeBase ?? (base.deployment ? readDeploymentOrigin(new OstreeSysroot(selector.sysroot), base.deployment)?.overrideRemove : undefined) ?? [];
  const read = await readBaseContents(base);
  const present = removeBase.filter((n) => read.packages.some((p) => p.package === n && p.state === 'installed'));
  if (options.onRemovalDropped && present.length < removeBase.length) options.onRemovalDropped(removeBase.filter((n) => !present.includes(n)));
  const contents = withoutBasePackages(read, options.onRemovalDropped ? present : removeBase);
  const env = await prepareAptEnvironment(contents, settings);
  let refreshed = false;
  if (options.refresh || !env.hasLists()) {
    if (options.cacheOnly) {
      throw new DeblayerError(
        `--cache-only: no package lists are cached for the sources of ${contents.base.label} (${env.sources.origin}): run deblayer refresh-md first`,
      );
    }
    dropResolverAhead();
    options.onRefreshStart?.(env);
    await refreshMetadata(env, options.onProgress, options.onDownload);
    refreshed = true;
  }
  return { contents, env, refreshed };
}
