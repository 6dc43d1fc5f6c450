// The package cache: each .deb is unpacked once, with the OSTree rewrite, and
// committed into the repository as its own commit under
// deblayer/pkg/NAME/VERSION_ARCH. Recomposing, uninstalling and upgrading reuse
// these commits instead of unpacking again, as rpm-ostree does with rpmostree/pkg/.
//
// What the dpkg database needs (file list, md5sums, control members) is a
// record, a file in the commit: usr/share/deblayer/packages/NAME_ARCH.json.
// It travels into every layered commit, so a booted host can tell what was
// layered; the control file alone is also commit metadata (deblayer.control).
//
// Packages are committed in one libostree transaction (src/exec/libostree.ts),
// which also gives each commit's tree index, the input of conflict checks.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CommitCache } from '../base/commit-cache.js';
import { openDeb, readDebControl, useLzmaHelpers, type DebControl, type DebLayout } from '../deb/index.js';
import { DeblayerError } from '../errors.js';
import { BatchCommitter, listRefs, TreeCommitter, type TreeCommits } from '../exec/libostree.js';
import type { OstreeRepo } from '../exec/ostree.js';
import { treeIndex, type TreeIndex } from './tree-index.js';
import { unpackLayer } from './unpack.js';
import { packageRef, PACKAGE_REFS, recordPath, type PackageId, type PackageRecord } from '../vocabulary/packages.js';
import { stagingDir } from '../staging.js';

export interface CachedPackage {
  ref: string;
  commit: string;
  record: PackageRecord;
  index: TreeIndex;
}

// A small import commits in the libostree worker, at the end, and decodes with
// an xz process a member: starting a committer and the decoding helpers costs
// more than the commits they would overlap with the unpacking.
const SMALL_IMPORT = { packages: 8, bytes: 4 * 1024 * 1024 };

/**
 * The package cache of one repository. What is read from a package commit (its
 * record and tree index) is also kept under CACHE/packages/COMMIT/, since a
 * commit never changes: a warm recomposition then costs two ostree runs
 * however many packages it has.
 */
export class PackageCache {
  private readonly files: CommitCache;

  constructor(
    readonly repo: OstreeRepo,
    cacheDir: string | undefined,
  ) {
    this.files = new CommitCache(cacheDir === undefined ? undefined : join(cacheDir, 'packages'));
  }

  private refs: Promise<Map<string, string>> | undefined;

  /**
   * Lists the package refs now, for the lookup to come: the listing then runs
   * while apt resolves. Only this transaction changes them, and its import
   * lists them again.
   */
  readRefsAhead(): void {
    this.refs ??= listRefs(this.repo.path, PACKAGE_REFS);
    // Reported by lookup(), which awaits the same promise.
    this.refs.catch(() => {});
  }

  /** The cached commits of these package versions, by ref; absent ones are left out. */
  async lookup(ids: PackageId[]): Promise<Map<string, CachedPackage>> {
    const present = await (this.refs ?? listRefs(this.repo.path, PACKAGE_REFS));
    const out = new Map<string, CachedPackage>();
    for (const id of ids) {
      const ref = packageRef(id.name, id.version, id.architecture);
      const commit = present.get(ref);
      if (commit !== undefined) out.set(ref, await this.read(ref, commit, id));
    }
    return out;
  }

  private async read(ref: string, commit: string, id: PackageId): Promise<CachedPackage> {
    const record = await this.files.json<PackageRecord>(commit, 'record', async () => {
      const text = await this.repo.cat(commit, recordPath(id.name, id.architecture));
      if (text === undefined) {
        throw new DeblayerError(`${ref} (commit ${commit.slice(0, 10)}) has no /${recordPath(id.name, id.architecture)}: not a deblayer package commit`);
      }
      return JSON.parse(text.toString('utf8')) as PackageRecord;
    });
    const index = await this.files.json<TreeIndex>(commit, 'index', () => treeIndex(this.repo, commit));
    return { ref, commit, record, index };
  }

  /**
   * Unpacks each .deb into a layer tree and commits it, all in one ostree
   * transaction: two packages are unpacked at a time (xz decodes a package's
   * single-block data.tar.xz on one core, and decompression is most of an
   * import), while python commits those done (a small import: all at the end).
   * Returns the packages in the order given. EXPECTED, when given, is what each
   * file must be (what apt planned): a file that is another package is an error.
   */
  async import(debs: string[], expected?: PackageId[], onImported?: (name: string) => void): Promise<CachedPackage[]> {
    if (debs.length === 0) return [];
    const sizes = debs.map((deb) => statSync(deb).size);
    const small = debs.length <= SMALL_IMPORT.packages && sizes.reduce((sum, size) => sum + size, 0) <= SMALL_IMPORT.bytes;
    // The largest first: the last package a lane takes is then a small one, so
    // neither lane decodes alone for long at the end while the other core idles.
    const order = debs.map((_, i) => i).sort((a, b) => sizes[b]! - sizes[a]!);
    if (!small) useLzmaHelpers();
    this.refs = undefined;
    mkdirSync(join(this.repo.path, 'tmp'), { recursive: true });
    const stages: string[] = [];
    const committer: TreeCommits = small ? new BatchCommitter(this.repo.path) : await TreeCommitter.open(this.repo.path);
    const results: Promise<CachedPackage>[] = new Array(debs.length);
    let next = 0;
    let failed = false;
    const unpackOne = async (i: number): Promise<void> => {
      const deb = debs[i]!;
      const layout = openDeb(deb);
      const control = await readDebControl(layout);
      const { package: name, version, architecture } = control.fields;
      const want = expected?.[i];
      if (want && (want.name !== name || want.version !== version || want.architecture !== architecture)) {
        throw new DeblayerError(`${deb} is ${name} ${version} ${architecture}, not ${want.name} ${want.version} ${want.architecture} as planned`);
      }
      const stage = stagingDir(this.repo.path, 'pkg');
      stages.push(stage);
      const tree = join(stage, 'tree');
      const record = await buildRecord(layout, control, tree);
      const ref = packageRef(name, version, architecture);
      const recordFile = join(tree, recordPath(name, architecture));
      mkdirSync(dirname(recordFile), { recursive: true });
      writeFileSync(recordFile, JSON.stringify(record) + '\n', { mode: 0o644 });
      const done = committer
        .commit({
          dir: tree,
          branch: ref,
          subject: `deblayer package ${name} ${version} ${architecture}`,
          metadata: { 'deblayer.control': control.controlText, version },
          // Package commits are content: no time in them, so the same .deb gives the same commit.
          timestamp: 0,
        })
        .then(({ commit, index }) => {
          rmSync(stage, { recursive: true, force: true });
          onImported?.(name);
          return { ref, commit, record, index };
        });
      // Reported through Promise.all below; without this a failure that comes
      // while the next package is unpacked would be an unhandled rejection.
      done.catch(() => {});
      results[i] = done;
    };
    // Each lane takes the next package until none is left or one has failed.
    const lane = async (): Promise<void> => {
      while (!failed && next < debs.length) {
        try {
          await unpackOne(order[next++]!);
        } catch (err) {
          failed = true;
          throw err;
        }
      }
    };
    try {
      const lanes = [lane(), lane()];
      // Both lanes settle before a failure is reported: the finally below
      // removes the stages, and a lane may still be writing into one.
      const settled = await Promise.allSettled(lanes);
      for (const s of settled) if (s.status === 'rejected') throw s.reason;
      // A batch answers every tree at finish; a stream has answered each by then.
      const finished = committer.finish();
      finished.catch(() => {});
      const packages = await Promise.all(results);
      await finished;
      for (const p of packages) {
        await this.files.json(p.commit, 'record', async () => p.record);
        await this.files.json(p.commit, 'index', async () => p.index);
      }
      return packages;
    } catch (err) {
      committer.abort();
      throw err;
    } finally {
      for (const stage of stages) rmSync(stage, { recursive: true, force: true });
    }
  }
}

async function buildRecord(layout: DebLayout, control: DebControl, tree: string): Promise<PackageRecord> {
  const manifest = await unpackLayer(layout, control, tree);
  const { stats: _stats, ...rest } = manifest;
  return {
    ...rest,
    controlText: control.controlText,
    members: control.files.filter((f) => f.name !== 'control').map((f) => ({ name: f.name, mode: f.mode, data: f.data.toString('base64') })),
    multiArchSame: control.fields.multiArch === 'same',
    conffileMd5: Object.fromEntries(
      control.conffiles
        .filter((c) => existsSync(join(tree, layerPath(c.path))))
        .map((c) => [c.path, createHash('md5').update(readFileSync(join(tree, layerPath(c.path)))).digest('hex')]),
    ),
  };
}

/** Where a conffile (always under /etc) is in the layer tree. */
function layerPath(conffile: string): string {
  return conffile.replace(/^\/etc\//, 'usr/etc/');
}
