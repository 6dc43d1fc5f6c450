// The layered state a deployment is, as apt sees a mutable system: the base's
// packages installed and held, the layered ones installed and free to move,
// those nobody asked for marked automatically installed. install and uninstall
// resolve against it, so that apt changes only what the request needs
// (`apt-get install X` upgrades nothing else); upgrade compares its plan with it.

import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { readCommitFile } from '../base/deployed-usr.js';
import { join } from 'node:path';
import { DeblayerError } from '../errors.js';
import { holdAll, parseStatus, withoutPackages, type StatusEntry } from '../base/dpkg-status.js';
import { replacedNames, type BaseContents } from '../base/select.js';
import { parseStatePackages } from '../vocabulary/packages.js';
import { withoutKey, withState, type AptEnvironment } from './environment.js';
import type { CommitInfo } from '../exec/ostree.js';

export interface CurrentState {
  /** The deployment's commit. */
  commit: string;
  /** The layered packages as its dpkg status has them, in the order of its plan. */
  packages: StatusEntry[];
  /** Their status paragraphs, as written. */
  paragraphs: string[];
  /** The package names its requests name (archive and local), from deblayer.requested. */
  requested: string[];
  /** Its whole dpkg status (base and layered packages, all configured): what a state built on it starts from. */
  statusText: string;
  /** Its commit's metadata (deblayer.base, deblayer.layering, ...). */
  metadata: Record<string, unknown>;
}

/** The metadata of a state's COMMIT, kept in the commit cache. */
export function stateCommitInfo(contents: BaseContents, commit: string): Promise<CommitInfo> {
  return contents.base.cache.json(commit, 'commit', () => contents.base.repo.commitInfo(commit));
}

/** NAME:ARCH, how a state tells packages apart (a Multi-Arch: same package is one per architecture). */
export function stateKey(p: { name: string; architecture: string }): string {
  return `${p.name}:${p.architecture}`;
}

/**
 * The layered state of a deployment's COMMIT (default: that of the deployment
 * CONTENTS were read from), or undefined when it layers nothing: a plain base,
 * or a commit deblayer did not make.
 */
export async function readCurrentState(contents: BaseContents, commit = contents.base.deployment?.checksum): Promise<CurrentState | undefined> {
  const { repo, cache } = contents.base;
  if (!commit) return undefined;
  const info = await stateCommitInfo(contents, commit);
  const listed = parseStatePackages(info.metadata['deblayer.packages']);
  if (listed.length === 0) return undefined;
  const statusPath = `${contents.database.path}/status`;
  const text = await cache.text(commit, 'dpkg-status', async () => (await readCommitFile(repo, commit, statusPath))?.toString('utf8') ?? '');
  // The paragraphs of the packages its metadata lists, by name and version: the rest is its base's.
  const wanted = new Set(listed.map((l) => `${l.name}=${l.version}`));
  const layered: { entry: StatusEntry; paragraph: string }[] = [];
  for (const paragraph of text.split(/\n\s*\n/)) {
    const [entry] = parseStatus(paragraph);
    if (entry && wanted.has(`${entry.package}=${entry.version}`)) layered.push({ entry, paragraph: paragraph.trim() });
  }
  const order = new Map(listed.map((l, i) => [l.name, i]));
  layered.sort((a, b) => order.get(a.entry.package)! - order.get(b.entry.package)!);
  const missing = listed.filter((l) => !layered.some((x) => x.entry.package === l.name));
  if (missing.length > 0) {
    throw new DeblayerError(`deployment ${commit.slice(0, 10)} layers ${missing.map((m) => `${m.name} ${m.version}`).join(', ')}, but its dpkg status at /${statusPath} does not list it`);
  }
  const requested = typeof info.metadata['deblayer.requested'] === 'string' ? info.metadata['deblayer.requested'].split(' ').filter((n) => n !== '') : [];
  return { commit, packages: layered.map((x) => x.entry), paragraphs: layered.map((x) => x.paragraph), requested, statusText: text, metadata: info.metadata };
}

/** STATE without the layered packages NAMES (a replacement of a base package being reset): its status too. */
export function stateWithout(state: CurrentState, names: string[]): CurrentState {
  if (names.length === 0) return state;
  const keep = state.packages.map((p, i) => ({ p, paragraph: state.paragraphs[i]! })).filter(({ p }) => !names.includes(p.package));
  return {
    ...state,
    packages: keep.map((k) => k.p),
    paragraphs: keep.map((k) => k.paragraph),
    requested: state.requested.filter((n) => !names.includes(n)),
    statusText: withoutPackages(state.statusText, new Set(names)),
  };
}

/**
 * ENV turned to STATE: a status of the base's entries held and the layered
 * ones installed, and extended_states marking the layered packages that no
 * request names as automatically installed, written once under the cache of
 * the state's commit (which never changes).
 */
export function stateEnvironment(env: AptEnvironment, contents: BaseContents, state: CurrentState): AptEnvironment {
  // Keyed by the base packages it goes without too: an override remove resolves against the same state without them.
  const without = withoutKey(contents);
  const dir = join(env.basesDir, state.commit, without ? `apt-state-${without}` : 'apt-state');
  if (!existsSync(join(dir, 'status'))) {
    mkdirSync(join(env.basesDir, state.commit), { recursive: true });
    const tmp = `${dir}.${process.pid}.tmp`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp);
    const layered = state.paragraphs.map((p) => p.replace(/^Status: .*$/m, 'Status: install ok installed'));
    // The base's entries, but those the state layers another version of (a replacement): one entry a package.
    const base = withoutPackages(holdAll(contents.statusText, replacedNames(contents)), new Set(state.packages.map((p) => p.package)));
    writeFileSync(join(tmp, 'status'), `${base.replace(/\n*$/, '\n\n')}${layered.map((p) => `${p}\n\n`).join('')}`);
    const auto = state.packages.filter((p) => !state.requested.includes(p.package));
    writeFileSync(join(tmp, 'extended_states'), auto.map((p) => `Package: ${p.package}\nArchitecture: ${p.architecture}\nAuto-Installed: 1\n\n`).join(''));
    try {
      renameSync(tmp, dir);
    } catch (err) {
      rmSync(tmp, { recursive: true, force: true });
      if (!existsSync(join(dir, 'status'))) throw err; // lost a race with another deblayer: theirs is the same
    }
  }
  return withState(env, dir);
}

/** The installed size of a status entry, in bytes (the field is in KiB). */
export function installedBytes(entry: StatusEntry): number {
  return Number(entry.fields['Installed-Size'] ?? 0) * 1024;
}
