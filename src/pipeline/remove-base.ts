// The base packages a deployment goes without (override remove), purged by the
// real dpkg in the sandbox as `apt-get purge` does on a mutable system: their
// prerm and postrm run, their files, conffiles and database entries go. From
// the base, before the layered packages are composed onto what is left (a
// derived state, in the order apt-get takes when a new package replaces an
// old one); or from the current state, when an override remove is all that
// changes.

import type { StatusEntry } from '../base/dpkg-status.js';
import type { BaseContents } from '../base/select.js';
import { purgePackages } from '../scripts/purge.js';
import { timedStep } from '../steps.js';
import { hostAccountsInput, type Configured, type ConfigureRequest } from './configure.js';
import type { StageHooks } from './stages.js';

export interface RemoveBaseRequest extends Omit<ConfigureRequest, 'packages' | 'skipScripts' | 'onto'> {
  contents: BaseContents;
  /** The commit they are purged from: the base's, or the current state's. */
  from: string;
  packages: StatusEntry[];
  /** Purge them though installed packages depend on them (their replacements come next). */
  forceDepends?: boolean;
  ref: string;
  subject: string;
  metadata: Record<string, string>;
}

export async function removeBasePackages(r: RemoveBaseRequest, hooks: StageHooks): Promise<Configured> {
  const { base, database } = r.contents;
  const names = r.packages.map((p) => p.package);
  const result = await timedStep(
    hooks,
    'remove',
    async () => {
      const result = await purgePackages({
        repo: base.repo,
        state: r.from,
        base: base.commit,
        database: database.path,
        records: [],
        targets: r.packages.map((p) => ({ package: p.package, architecture: p.architecture, multiArchSame: p.fields['Multi-Arch'] === 'same' })),
        generated: [],
        ...(r.forceDepends ? { forceDepends: true } : {}),
        ...hostAccountsInput(r),
        branch: r.ref,
        subject: r.subject,
        metadata: { ...r.metadata, 'deblayer.scripts': 'configured' },
        output: r.output,
        ...(r.onLine ? { onLine: r.onLine } : {}),
      });
      for (const n of result.notices) r.onNotice?.(n);
      return result;
    },
    names.join(', '),
  );
  return { commit: { checksum: result.commit, ref: r.ref }, configure: true, subject: r.subject, metadata: r.metadata, accounts: result.accounts };
}
