// The compose stage: the base, the packages' trees and a dpkg database that
// lists them, committed as layer state N (ref deblayer/state/N). Packages with
// maintainer scripts or triggers are listed `unpacked`, for the configure
// stage; without any they are `installed` and this commit is the state's.

import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Plan } from '../apt/plan.js';
import { leftOut, type BaseContents } from '../base/select.js';
import { withoutPackages } from '../base/dpkg-status.js';
import { composeCommit, ownersFromInfo, type BaseOwnership } from '../compose/compose.js';
import type { CachedPackage } from '../compose/package-cache.js';
import { formatOrigin, type Origin } from '../deploy/origin.js';
import { commitUnion, lookupPaths } from '../exec/libostree.js';
import { readCommitFile } from '../base/deployed-usr.js';
import type { OstreeRepo } from '../exec/ostree.js';
import { fileTriggerPaths, needsConfiguring } from '../scripts/triggers.js';
import { stagingDir } from '../staging.js';
import { timedStep } from '../steps.js';
import { formatStatePackages } from '../vocabulary/packages.js';
import type { StageHooks, StateCommit } from './stages.js';
import { LAYERING_KEY, LAYERING_VERSION, MADE_KEY, REMOVED_KEY, REPLACED_KEY, removedValue, replacedValue } from './basis.js';
import type { CurrentState } from '../apt/current-state.js';

export interface Composed {
  commit: StateCommit;
  /** The packages are `unpacked`: the configure stage runs their scripts. */
  configure: boolean;
  subject: string;
  metadata: Record<string, string>;
}

export interface ComposeRequest {
  contents: BaseContents;
  plan: Plan;
  packages: CachedPackage[];
  /** The origin the state is deployed with (kept in its metadata, for rollback --to). */
  origin: Origin;
  /** The ref that keeps the commit (deblayer/state/N, or compose's working ref). */
  ref: string;
  skipScripts: string[];
  /** An incremental state: laid on the current state's commit, PACKAGES being only those it adds. */
  onto?: CurrentState;
  /** A derived state that goes without base packages: the base with them purged (remove-base.ts), laid on instead of the base. */
  trimmed?: string;
}

/** The commit's metadata: what it layers on which base, and the origin that deploys it again. */
export function stateMetadata(r: Omit<ComposeRequest, 'packages' | 'ref' | 'skipScripts'>): Record<string, string> {
  const version = r.contents.base.info.metadata.version;
  return {
    'deblayer.base': r.contents.base.commit,
    [LAYERING_KEY]: LAYERING_VERSION,
    [MADE_KEY]: r.onto ? 'incremental' : 'derived',
    'deblayer.requested': r.plan.requested.join(' '),
    'deblayer.packages': formatStatePackages(r.plan.packages),
    'deblayer.origin': formatOrigin(r.origin),
    ...(r.contents.removed?.length ? { [REMOVED_KEY]: removedValue(r.contents) } : {}),
    ...(r.contents.replaced?.length ? { [REPLACED_KEY]: replacedValue(r.contents) } : {}),
    ...(typeof version === 'string' ? { version } : {}),
  };
}

/** Whether dpkg must configure: a package has scripts, or ships a file under a file trigger of the base. */
async function mustConfigure(r: ComposeRequest): Promise<boolean> {
  const { base, database } = r.contents;
  const under = r.onto?.commit ?? r.trimmed ?? base.commit;
  const triggers = await base.cache.text(
    under,
    'file-triggers',
    async () => (await readCommitFile(base.repo, under, `${database.path}/triggers/File`))?.toString('utf8') ?? '',
  );
  return needsConfiguring(r.packages.map((p) => p.record), fileTriggerPaths(triggers), r.skipScripts);
}

export async function composeState(r: ComposeRequest, hooks: StageHooks): Promise<Composed> {
  const { base } = r.contents;
  const subject = `Layer ${r.plan.requested.join(', ') || 'nothing'} on ${base.label}`;
  const metadata = stateMetadata(r);
  if (r.plan.packages.length === 0) {
    // Nothing layered any more: the state is the base commit itself.
    return { commit: { checksum: base.commit, ref: r.origin.baseRefspec ?? base.commit }, configure: false, subject, metadata };
  }
  if (r.onto && r.packages.length === 0) {
    // Only the requests change (apt-mark's manual and auto): the current state's tree under the new metadata.
    const onto = r.onto.commit;
    const checksum = await timedStep(hooks, 'compose', () =>
      commitUnion(base.repo.path, { branch: r.ref, parent: base.commit, trees: [{ ref: onto }], subject, metadata }),
    );
    return { commit: { checksum, ref: r.ref }, configure: false, subject, metadata };
  }
  const configure = await mustConfigure(r);
  const ref = r.ref;
  const repo = base.repo;
  const under = r.onto?.commit ?? r.trimmed ?? base.commit;
  let owners: Promise<BaseOwnership> | undefined;
  const checksum = await timedStep(hooks, 'compose', () =>
    composeCommit({
      repo,
      contents: r.contents,
      packages: r.packages,
      baseEntries: (paths) => lookupPaths(repo.path, under, paths),
      baseOwners: () => (owners ??= baseOwners(repo, under, r.contents.database.path)),
      ...(r.onto ? { onto: { commit: r.onto.commit, statusText: r.onto.statusText, layered: new Set(r.onto.packages.map((p) => p.package)) } } : {}),
      // The trimmed tree's status: the base's without what it leaves out (a replaced package's entry is its replacement's).
      ...(!r.onto && r.trimmed ? { onto: { commit: r.trimmed, statusText: withoutPackages(r.contents.statusText, new Set(leftOut(r.contents).map((p) => p.package))), layered: new Set<string>() } } : {}),
      branch: ref,
      subject,
      metadata,
      state: configure ? 'unpacked' : 'installed',
    }),
  );
  return { commit: { checksum, ref }, configure, subject, metadata };
}

/** Who owns each path of the base, from its dpkg database's info/*.list files. */
async function baseOwners(repo: OstreeRepo, commit: string, database: string): Promise<BaseOwnership> {
  const dir = stagingDir(repo.path, 'info');
  try {
    await repo.checkoutCopy(commit, `${database}/info`, join(dir, 'info'));
    return ownersFromInfo(join(dir, 'info'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
