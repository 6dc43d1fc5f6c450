// The configure stage: dpkg configures the composed state's packages in a
// sandbox (maintainer scripts, triggers), and what that changed in /usr and
// /etc is committed on top, as the state's commit. The accounts the scripts
// made are returned for the record stage; their output is kept by the caller
// even when a script fails.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KnownAccount } from '../base/accounts.js';
import type { BaseContents } from '../base/select.js';
import type { CachedPackage } from '../compose/package-cache.js';
import type { PackageOutput } from '../scripts/dpkg-output.js';
import { runScripts } from '../scripts/run-scripts.js';
import { OLD_SYSUSERS_CONF, SYSUSERS_CONF } from '../scripts/sysusers.js';
import { timedStep } from '../steps.js';
import type { Composed } from './compose.js';
import type { StageHooks } from './stages.js';

export interface ConfigureRequest {
  contents: BaseContents;
  packages: CachedPackage[];
  skipScripts: string[];
  /** An incremental state: the current state's commit, which PACKAGES are added to (their preinsts run over it). */
  onto?: string;
  /** The deployment the state follows: its /etc and the accounts deblayer gave it. */
  deploymentDir?: string;
  /** Without a deployment (compose): the sysusers.d lines of the commits the new one follows. */
  previousSysusers?: string;
  /** Accounts scripts made in earlier states of this stateroot (the layer database's). */
  knownAccounts?: KnownAccount[];
  /** Filled with what each package's scripts printed, also when one fails. */
  output: PackageOutput[];
  onLine?: (line: string) => void;
  onNotice?: (line: string) => void;
}

export interface Configured extends Composed {
  accounts: KnownAccount[];
}

export async function configureState(composed: Composed, r: ConfigureRequest, hooks: StageHooks): Promise<Configured> {
  const { base, database } = r.contents;
  const configured = new Set<string>();
  const result = await timedStep(
    hooks,
    'scripts',
    async () => {
      const result = await runScripts({
        repo: base.repo,
        composed: composed.commit.checksum,
        base: r.onto ?? base.commit,
        database: database.path,
        records: r.packages.map((p) => p.record),
        ...hostAccountsInput(r),
        skip: r.skipScripts,
        branch: composed.commit.ref,
        subject: composed.subject,
        metadata: { ...composed.metadata, 'deblayer.scripts': 'configured' },
        output: r.output,
        ...(r.onLine ? { onLine: r.onLine } : {}),
        onPackageDone: (pkg: string) => {
          // Once a package: its triggers, processed later, tell it installed again.
          if (configured.has(pkg) || !r.packages.some((p) => p.record.package === pkg)) return;
          configured.add(pkg);
          hooks.onCount?.('scripts', configured.size, r.packages.length, pkg);
        },
      });
      for (const n of result.notices) r.onNotice?.(n);
      return result;
    },
    `${r.packages.length} packages`,
  );
  return { ...composed, commit: { checksum: result.commit, ref: composed.commit.ref }, accounts: result.accounts };
}

/** What any scripts run (configure, purge) is told of the host's accounts: the deployment's /etc, and the accounts deblayer gave it. */
export function hostAccountsInput(r: Pick<ConfigureRequest, 'deploymentDir' | 'previousSysusers' | 'knownAccounts'>) {
  return {
    ...(r.deploymentDir ? { hostEtc: join(r.deploymentDir, 'etc'), previousSysusers: previousSysusers(r.deploymentDir) } : {}),
    ...(!r.deploymentDir && r.previousSysusers ? { previousSysusers: r.previousSysusers } : {}),
    ...(r.knownAccounts ? { knownAccounts: r.knownAccounts } : {}),
  };
}

/** The sysusers.d lines deblayer wrote for a deployment (under either name it has used). */
export function previousSysusers(deploymentDir: string): string {
  return [SYSUSERS_CONF, OLD_SYSUSERS_CONF]
    .map((f) => join(deploymentDir, 'usr', f))
    .filter((p) => existsSync(p))
    .map((p) => readFileSync(p, 'utf8'))
    .join('');
}
