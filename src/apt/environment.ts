// deblayer's private apt configuration for one base commit, under the cache
// directory (default /var/cache/deblayer):
//
//   sources/HASH/etc/        sources.list.d, trusted.gpg.d, keyrings: one source set,
//                            keyed by the hash of its sources and keys
//   sources/HASH/lists/      apt's package lists for that source set (refresh-md)
//   bases/COMMIT/status      the base's dpkg status with every package on hold
//   bases/COMMIT/without-HASH/  the same for a deployment that leaves some base
//                            packages out (override remove, replace): its status
//                            leaves them out, its preferences.d pins the removed
//                            ones out of reach
//   bases/COMMIT/apt-state/  for a layered deployment's commit: its status (the base's
//                            held, the layered packages' not) and extended_states
//   archives/                downloaded .deb files, shared by all bases (apt checks hashes)
//   next-resolve/SYSROOT.json  the configuration the next install there resolves against (./ahead.ts)
//
// Lists are keyed by the sources, not the base, so a new base with the same
// sources (an upgrade) reuses them.

import { writeAtomically } from '../write-file.js';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { DeblayerError } from '../errors.js';
import { takeResolverAhead } from './ahead.js';
import { openLibapt, type AptInvocation, type LibaptSession } from '../exec/apt.js';
import { holdAll } from '../base/dpkg-status.js';
import { removedNames, replacedNames, type BaseContents } from '../base/select.js';
import { CommitReader, HostReader, readSourceDir, readSourceOptions, readTrusted, rewriteSignedBy, type SourceSet } from './sources.js';

/** Under the cache dir: the .deb files of layered local packages, which every recompose needs again. */
export const LOCAL_PACKAGES = 'local';
const REFRESHED_STAMP = '.deblayer-refreshed';

export interface AptSettings {
  cacheDir: string;
  /** Host configuration with sources that replace the base's (default /etc/deblayer). */
  configDir: string;
  /** --source values; they replace every other source. */
  sources?: string[];
  allowUnauthenticated?: boolean;
  installRecommends?: boolean;
}

export interface AptEnvironment {
  invocation: AptInvocation;
  sources: SourceSet;
  sourcesDir: string;
  listsDir: string;
  archivesDir: string;
  baseDir: string;
  /** bases/ of the cache directory: one directory a commit. */
  basesDir: string;
  /** A layered state's environment (withState) keeps the base's, which any other state of that base starts from. */
  base?: AptEnvironment;
  /** True once refresh-md has fetched lists for this source set. */
  hasLists(): boolean;
  markRefreshed(): void;
  /** A libapt process for one resolution: the one prestartLibapt started, or a new one. */
  libapt(): LibaptSession;
  /** Starts libapt now, so that apt's cache opens while the rest of a transaction is set up. */
  prestartLibapt(): void;
}

export async function gatherSources(contents: BaseContents, settings: AptSettings): Promise<SourceSet> {
  const { repo, commit, cache } = contents.base;
  const baseReader = new CommitReader(repo, commit);
  const baseTrusted = () => cache.json(commit, 'apt-trusted', () => readTrusted(baseReader, '/etc/apt'));
  if (settings.sources && settings.sources.length > 0) {
    return readSourceOptions(settings.sources, await baseTrusted());
  }
  const host = new HostReader();
  const configured = await readSourceDir(host, settings.configDir, settings.configDir);
  if (configured.files.length > 0) {
    // Keys for sources without Signed-By: the base's, and any the config dir adds.
    configured.trusted.unshift(...(await baseTrusted()));
    return configured;
  }
  const set = await cache.json(commit, 'apt-sources', () => readSourceDir(baseReader, '/etc/apt', "the base's /usr/etc/apt"));
  if (set.files.length === 0) {
    throw new DeblayerError(
      `the base ${contents.base.label} has no apt sources (/usr/etc/apt/sources.list and sources.list.d are empty): give one with --source or in ${settings.configDir}/sources.list.d`,
    );
  }
  return set;
}

/** `without-HASH` for a base that leaves some of its packages out (removed or replaced): the directories of its apt state are apart. */
export function withoutKey(contents: BaseContents): string | undefined {
  const removed = [...removedNames(contents)].sort();
  const replaced = [...replacedNames(contents)].sort();
  if (removed.length + replaced.length === 0) return undefined;
  return `without-${createHash('sha256').update(`${removed.join(' ')}\n${replaced.join(' ')}`).digest('hex').slice(0, 16)}`;
}

function hashSources(set: SourceSet): string {
  const h = createHash('sha256');
  for (const f of set.files) h.update(`file ${f.name}\n${f.text}\n`);
  for (const k of set.trusted) h.update(`trusted ${k.name}\n`).update(k.data);
  for (const [path, k] of [...set.signedBy].sort()) h.update(`signed-by ${path} ${k.name}\n`).update(k.data);
  return h.digest('hex').slice(0, 16);
}

/** Writes (or reuses) the private configuration for this base and these sources. */
export async function prepareAptEnvironment(contents: BaseContents, settings: AptSettings): Promise<AptEnvironment> {
  const sources = await gatherSources(contents, settings);
  const cacheDir = settings.cacheDir;
  const sourcesDir = join(cacheDir, 'sources', hashSources(sources));
  const etc = join(sourcesDir, 'etc');
  if (!existsSync(etc)) writeSourcesEtc(sourcesDir, etc, sources);
  const listsDir = join(sourcesDir, 'lists');
  mkdirSync(join(listsDir, 'partial'), { recursive: true });

  const archivesDir = join(cacheDir, 'archives');
  mkdirSync(join(archivesDir, 'partial'), { recursive: true });

  const basesDir = join(cacheDir, 'bases');
  const removed = [...removedNames(contents)].sort();
  const without = withoutKey(contents);
  const baseDir = join(basesDir, contents.base.commit, ...(without ? [without] : []));
  for (const d of ['cache', 'log']) mkdirSync(join(baseDir, d), { recursive: true });
  const status = join(baseDir, 'status');
  if (!existsSync(status)) writeAtomically(status, holdAll(contents.statusText, replacedNames(contents)));
  if (!existsSync(join(baseDir, 'extended_states'))) writeFileSync(join(baseDir, 'extended_states'), '');

  const [native, ...foreign] = contents.architectures;
  const options: [string, string][] = [
    ['Dir::State', `${baseDir}/`],
    ['Dir::State::status', status],
    ['Dir::State::extended_states', join(baseDir, 'extended_states')],
    ['Dir::State::Lists', `${listsDir}/`],
    ['Dir::Cache', `${join(baseDir, 'cache')}/`],
    ['Dir::Cache::archives', `${archivesDir}/`],
    // apt's binary cache of the lists alone, shared by every base with these
    // sources: a new base (an upgrade) then only adds its status to it instead
    // of parsing every list again.
    ['Dir::Cache::srcpkgcache', join(sourcesDir, 'srcpkgcache.bin')],
    ['Dir::Log', `${join(baseDir, 'log')}/`],
    ['APT::Architecture', native!],
    ['APT::Architectures::', native!],
    ...foreign.map((a): [string, string] => ['APT::Architectures::', a]),
    // Translations are not needed to resolve, and would double what refresh-md fetches.
    ['Acquire::Languages', 'none'],
    ['APT::Install-Recommends', settings.installRecommends === false ? 'false' : 'true'],
    ['APT::Install-Suggests', 'false'],
  ];
  if (removed.length > 0) {
    // Removed base packages stay out: a request that needs one fails with apt's reason, naming it.
    const prefs = join(baseDir, 'preferences.d');
    const pins = join(prefs, 'deblayer-removed.pref');
    // Written once, as the status is: the directory is keyed by what it removes.
    if (!existsSync(pins)) {
      mkdirSync(prefs, { recursive: true });
      writeAtomically(pins, removed.map((n) => `Package: ${n}\nPin: version *\nPin-Priority: -1\n`).join('\n'));
    }
    options.push(['Dir::Etc::PreferencesParts', `${prefs}/`]);
  }
  if (settings.allowUnauthenticated) {
    options.push(['Acquire::AllowInsecureRepositories', 'true'], ['APT::Get::AllowUnauthenticated', 'true']);
  }
  const invocation: AptInvocation = { configFile: join(sourcesDir, 'apt.conf'), options };
  return environment(invocation, { sources, sourcesDir, listsDir, archivesDir, baseDir, basesDir });
}

type Places = Pick<AptEnvironment, 'sources' | 'sourcesDir' | 'listsDir' | 'archivesDir' | 'baseDir' | 'basesDir'>;

function environment(invocation: AptInvocation, places: Places, base?: AptEnvironment): AptEnvironment {
  let prestarted: LibaptSession | undefined;
  return {
    ...places,
    ...(base ? { base } : {}),
    invocation,
    hasLists: () => existsSync(join(places.listsDir, REFRESHED_STAMP)),
    markRefreshed: () => writeFileSync(join(places.listsDir, REFRESHED_STAMP), new Date().toISOString() + '\n'),
    libapt() {
      const session = prestarted ?? takeResolverAhead(invocation) ?? openLibapt(invocation);
      prestarted = undefined;
      return session;
    },
    prestartLibapt() {
      prestarted ??= takeResolverAhead(invocation) ?? openLibapt(invocation);
    },
  };
}

/**
 * ENV (a base's, or another state's of that base) with the dpkg status and
 * extended_states of DIR instead of the base's (a layered state's:
 * src/apt/current-state.ts). Its binary cache of the
 * status is DIR's own, so the base's and the state's do not rebuild each
 * other's; the lists and their cache stay shared.
 */
export function withState(env: AptEnvironment, dir: string): AptEnvironment {
  for (const d of ['cache', 'log']) mkdirSync(join(dir, d), { recursive: true });
  const replaced: Record<string, string> = {
    'Dir::State': `${dir}/`,
    'Dir::State::status': join(dir, 'status'),
    'Dir::State::extended_states': join(dir, 'extended_states'),
    'Dir::Cache': `${join(dir, 'cache')}/`,
    'Dir::Log': `${join(dir, 'log')}/`,
  };
  const base = env.base ?? env;
  const options = base.invocation.options.map(([k, v]): [string, string] => [k, replaced[k] ?? v]);
  // A state is resolved against about once (the next transaction makes another): apt builds its
  // cache in memory from the lists' cache and the status rather than also writing it to disk.
  options.push(['Dir::Cache::pkgcache', '']);
  const { sources, sourcesDir, listsDir, archivesDir, baseDir, basesDir } = env;
  return environment({ ...base.invocation, options }, { sources, sourcesDir, listsDir, archivesDir, baseDir, basesDir }, base);
}

function writeSourcesEtc(sourcesDir: string, etc: string, sources: SourceSet): void {
  mkdirSync(sourcesDir, { recursive: true });
  const tmp = mkdtempSync(join(sourcesDir, '.etc-'));
  try {
    // apt's gpgv method runs as the unprivileged _apt user: it must be able to read the keys.
    chmodSync(tmp, 0o755);
    for (const d of ['sources.list.d', 'trusted.gpg.d', 'keyrings', 'preferences.d', 'apt.conf.d']) mkdirSync(join(tmp, d));
    writeFileSync(join(tmp, 'sources.list'), '');
    const keyPath = (path: string) => {
      const key = sources.signedBy.get(path);
      if (!key) throw new DeblayerError(`${sources.origin}: a Signed-By key path '${path}' was not read with the sources`);
      return join(etc, 'keyrings', key.name);
    };
    for (const f of sources.files) writeFileSync(join(tmp, 'sources.list.d', f.name), rewriteSignedBy(f.text, keyPath));
    for (const k of sources.trusted) {
      if (k.name === 'trusted.gpg') writeFileSync(join(tmp, 'trusted.gpg'), k.data);
      else writeFileSync(join(tmp, 'trusted.gpg.d', k.name), k.data);
    }
    for (const k of sources.signedBy.values()) writeFileSync(join(tmp, 'keyrings', k.name), k.data);
    // apt reads configuration files before -o options: this one only moves Dir::Etc.
    writeFileSync(join(sourcesDir, 'apt.conf'), `Dir::Etc "${etc}/";\n`);
    renameSync(tmp, etc);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    if (!existsSync(etc)) throw err; // lost a race with another deblayer: theirs is the same
  }
}

/** .deb files in the shared archive directory. */
export function cachedArchives(env: AptEnvironment): Set<string> {
  return new Set(readdirSync(env.archivesDir).filter((n) => n.endsWith('.deb')));
}
