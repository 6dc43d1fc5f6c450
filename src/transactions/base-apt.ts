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
import { originOverrides, type BaseOverrides } from '../deploy/origin.js';
import { compareVersions } from '../vocabulary/packages.js';

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
   * The base packages the deployment leaves out (override remove, replace):
   * by default its origin's, when the base is a deployment's.
   */
  overrides?: BaseOverrides;
  /**
   * Given (upgrade, rebase: a new base), an override the base makes pointless
   * is dropped and told here: the removal of a package it does not have, the
   * replacement of one it has caught up with. Otherwise such an override is an error.
   */
  onOverrideDropped?: (note: string) => void;
}

/** OVERRIDES as they apply to the base READ: those it makes pointless dropped (with a note) when ONDROPPED is given. */
function applicable(read: BaseContents, overrides: BaseOverrides, onDropped: ((note: string) => void) | undefined): BaseOverrides {
  if (!onDropped) return overrides;
  const inBase = (name: string) => read.packages.find((p) => p.package === name && p.state === 'installed');
  const remove = overrides.remove.filter((name) => {
    if (inBase(name)) return true;
    onDropped(`The new base has no ${name}: its override remove is dropped.`);
    return false;
  });
  const replace = overrides.replace.filter(({ name, version }) => {
    const base = inBase(name);
    if (!base) onDropped(`The new base has no ${name}: its override replace is dropped.`);
    else if (compareVersions(base.version, version) >= 0) onDropped(`The new base has ${name} ${base.version}, which ${base.version === version ? 'is' : 'is newer than'} the replacement ${version}: the override replace is dropped.`);
    else return true;
    return false;
  });
  return { remove, replace };
}

export async function openBaseApt(selector: BaseSelector, settings: AptSettings, options: BaseAptOptions = {}): Promise<BaseApt> {
  const cache = new CommitCache(join(settings.cacheDir, 'bases'));
  const base = await selectBase({ ...selector, cache });
  const overrides = options.overrides ?? originOverrides(base.deployment ? readDeploymentOrigin(new OstreeSysroot(selector.sysroot), base.deployment) : undefined);
  const read = await readBaseContents(base);
  const { remove, replace } = applicable(read, overrides, options.onOverrideDropped);
  const contents = withoutBasePackages(read, remove, replace.map((r) => r.name));
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
