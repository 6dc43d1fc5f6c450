// ostree(1): the only place that spawns it. Builds its command lines and turns
// its failures into CommandErrors that say what deblayer was doing.
//
// The CLI rather than libostree through GObject introspection: Node has no
// maintained GI binding, and the CLI of 2022.7 (Debian 12) has every operation
// deblayer needs for reading commits, committing and deploying.

import { existsSync, mkdirSync } from 'node:fs';
import { run, tail, type RunOptions } from './run.js';
import { CommandError, NotASysrootError } from '../errors.js';

/** A pull that failed the remote's signature check: the remote and ostree's own reason. */
export class GpgVerificationError extends CommandError {
  constructor(
    readonly remote: string,
    readonly ref: string,
    why: string,
    stderr: string,
  ) {
    super('ostree', `cannot pull ${remote}:${ref}: ${why}`, { detail: stderr });
  }
}

export type RepoMode = 'bare' | 'bare-user' | 'bare-user-only' | 'archive';

export interface CommitOptions {
  branch: string;
  /** Trees to combine, in order; later ones win (`--tree=dir=`, `--tree=ref=`). */
  trees: ({ dir: string } | { ref: string })[];
  subject: string;
  body?: string;
  /** Commit metadata as strings (`--add-metadata-string`). */
  metadata?: Record<string, string>;
  /** Seconds since the epoch; ostree uses the current time otherwise. */
  timestamp?: number;
  /** Parent commit; by default ostree uses the branch's current commit. */
  parent?: string;
}

export interface LsEntry {
  type: 'file' | 'directory' | 'symlink';
  mode: number;
  uid: number;
  gid: number;
  size: number;
  path: string;
  target?: string;
}

const OSTREE = 'ostree';

// ostree converts its arguments from the locale's charset: under LC_ALL=C a
// UTF-8 byte (a maintainer's name in a control file given as commit metadata)
// is "Invalid byte sequence in conversion input". Always a UTF-8 locale.
function ostree(args: string[], what: string, options: RunOptions = {}) {
  return run(OSTREE, args, what, { ...options, env: { ...options.env, LC_ALL: 'C.UTF-8' } });
}

export class OstreeRepo {
  constructor(readonly path: string) {}

  private run(args: string[], what: string, options: RunOptions = {}) {
    return ostree([`--repo=${this.path}`, ...args], what, options);
  }

  static async init(path: string, mode: RepoMode): Promise<OstreeRepo> {
    await ostree([`--repo=${path}`, 'init', `--mode=${mode}`], `cannot create repository ${path}`);
    return new OstreeRepo(path);
  }

  /** The commit a ref or checksum names, or undefined when there is none. */
  async resolve(refOrChecksum: string): Promise<string | undefined> {
    const r = await this.run(['rev-parse', refOrChecksum], `cannot resolve '${refOrChecksum}'`, { allowFailure: true });
    if (r.exitCode === 0) return r.stdout.trim();
    if (/not found|No such|invalid/i.test(r.stderr)) return undefined;
    throw new CommandError(OSTREE, `cannot resolve '${refOrChecksum}' in ${this.path}: ${r.stderr.trim()}`);
  }

  /** The commits of several refs that exist, in one run. */
  async resolveAll(refs: string[]): Promise<string[]> {
    if (refs.length === 0) return [];
    const r = await this.run(['rev-parse', ...refs], `cannot resolve ${refs.length} refs`);
    const commits = r.stdout.split('\n').filter((l) => l !== '');
    if (commits.length !== refs.length) throw new CommandError(OSTREE, `rev-parse of ${refs.length} refs gave ${commits.length} commits`);
    return commits;
  }

  /** Writes a commit and returns its checksum. */
  async commit(options: CommitOptions): Promise<string> {
    const args = ['commit', `--branch=${options.branch}`, `--subject=${options.subject}`];
    if (options.body !== undefined) args.push(`--body=${options.body}`);
    for (const tree of options.trees) args.push('dir' in tree ? `--tree=dir=${tree.dir}` : `--tree=ref=${tree.ref}`);
    for (const [k, v] of Object.entries(options.metadata ?? {})) args.push(`--add-metadata-string=${k}=${v}`);
    if (options.timestamp !== undefined) args.push(`--timestamp=${new Date(options.timestamp * 1000).toISOString()}`);
    if (options.parent !== undefined) args.push(`--parent=${options.parent}`);
    const r = await this.run(args, `cannot commit to ${options.branch}`);
    return r.stdout.trim();
  }

  /** A file's bytes from a commit, or undefined when the path does not exist there. */
  async cat(commit: string, path: string): Promise<Buffer | undefined> {
    const r = await this.run(['cat', commit, absolute(path)], `cannot read ${path} from ${short(commit)}`, {
      allowFailure: true,
      binary: true,
    });
    if (r.exitCode === 0) return r.stdoutBytes;
    if (/No such file|not found/i.test(r.stderr)) return undefined;
    throw new CommandError(OSTREE, `cannot read ${absolute(path)} from commit ${short(commit)}: ${r.stderr.trim()}`);
  }

  /**
   * One path's entry (or a directory's entries with `children`), undefined when
   * the path does not exist in the commit. Symlinks are not followed.
   */
  async ls(commit: string, path: string, options: { children?: boolean; recursive?: boolean } = {}): Promise<LsEntry[] | undefined> {
    const args = ['ls', commit];
    if (!options.children && !options.recursive) args.push('--dironly');
    if (options.recursive) args.push('-R');
    args.push(absolute(path));
    const r = await this.run(args, `cannot list ${path} in ${short(commit)}`, { allowFailure: true });
    if (r.exitCode !== 0) {
      if (/No such file|not found/i.test(r.stderr)) return undefined;
      throw new CommandError(OSTREE, `cannot list ${absolute(path)} in commit ${short(commit)}: ${r.stderr.trim()}`);
    }
    const entries = r.stdout
      .split('\n')
      .filter((l) => l !== '')
      .map(parseLsLine);
    // Listing a directory prints the directory itself first.
    return options.children || options.recursive ? entries.filter((e) => e.path !== absolute(path)) : entries;
  }

  /**
   * Fetches REF from REMOTE (a remote configured in this repository). A commit
   * or summary that fails the remote's signature check is a GpgVerificationError,
   * so that callers can say which remote and what to do about it.
   */
  async pull(remote: string, ref: string, onLine?: (line: string) => void): Promise<void> {
    const what = `cannot pull ${remote}:${ref}`;
    const r = await this.run(['pull', remote, ref], what, { allowFailure: true, ...(onLine ? { onLine: (l: string) => onLine(l) } : {}) });
    if (r.exitCode === 0) return;
    const why = tail(r.stderr) || `exit status ${r.exitCode}`;
    if (/GPG|signature|keyring/i.test(r.stderr)) throw new GpgVerificationError(remote, ref, why, r.stderr);
    throw new CommandError(OSTREE, `${what}: ${why}`, { detail: `command: ${r.command}\n${r.stderr}` });
  }

  /**
   * The newest commit of REF on REMOTE and its version, from the remote's
   * summary (verified as the remote's configuration says): no object is
   * pulled and no ref changes, as `rpm-ostree upgrade --check` asks before
   * downloading. Undefined when the summary does not list REF.
   */
  async remoteLatest(remote: string, ref: string): Promise<{ commit: string; version?: string } | undefined> {
    const r = await this.run(['remote', 'summary', remote], `cannot read the summary of remote ${remote}`);
    return parseRemoteSummary(r.stdout).get(ref);
  }

  /** Copies COMMIT from the repository at SOURCE, with DEPTH parents (none by default); no ref is written. */
  async pullLocal(source: string, commit: string, options: { depth?: number } = {}): Promise<void> {
    const depth = options.depth ? [`--depth=${options.depth}`] : [];
    await this.run(['pull-local', ...depth, source, commit], `cannot copy ${short(commit)} from ${source}`);
  }

  /** Whether the commit object COMMIT is in this repository (a checksum; rev-parse does not check that). */
  hasCommit(commit: string): boolean {
    return /^[0-9a-f]{64}$/.test(commit) && existsSync(`${this.path}/objects/${commit.slice(0, 2)}/${commit.slice(2)}.commit`);
  }

  /** Every local ref (remote refs, REMOTE:REF, left out). */
  async allRefs(): Promise<string[]> {
    const r = await this.run(['refs'], `cannot list the refs of ${this.path}`);
    return r.stdout.split('\n').filter((l) => l !== '' && !l.includes(':'));
  }

  /** The repository's mode (core.mode of its config); archive-z2 is archive's old name. */
  async mode(): Promise<string> {
    const r = await this.run(['config', 'get', 'core.mode'], `cannot read the mode of ${this.path}`);
    const mode = r.stdout.trim();
    return mode === 'archive-z2' ? 'archive' : mode;
  }

  /** Points REF at COMMIT, creating or moving it. */
  async setRef(ref: string, commit: string): Promise<void> {
    await this.run(['refs', '--force', `--create=${ref}`, commit], `cannot set ref ${ref} to ${short(commit)} in ${this.path}`);
  }

  /** How many signatures COMMIT's detached metadata carries (checked or not). */
  async signatureCount(commit: string): Promise<number> {
    const r = await this.run(['show', commit], `cannot read commit ${short(commit)}`);
    const m = /^Found (\d+) signatures?:/m.exec(r.stdout);
    return m ? Number(m[1]) : 0;
  }

  /** Signs COMMIT with each of KEYIDS (from GNUPGHOME, or HOMEDIR). */
  async gpgSign(commit: string, keyIds: string[], homedir?: string): Promise<void> {
    const home = homedir ? [`--gpg-homedir=${homedir}`] : [];
    await this.run(['gpg-sign', ...home, commit, ...keyIds], `cannot sign ${short(commit)} in ${this.path} with key ${keyIds.join(', ')}`);
  }

  /** A static delta from FROM to TO, for clients that have FROM. */
  async generateStaticDelta(from: string, to: string): Promise<void> {
    await this.run(['static-delta', 'generate', `--from=${from}`, `--to=${to}`], `cannot generate a static delta ${short(from)}-${short(to)} in ${this.path}`);
  }

  /** Rewrites the summary file from the refs and deltas, signed with KEYIDS when given. */
  async updateSummary(options: { gpgSign?: string[]; gpgHomedir?: string } = {}): Promise<void> {
    const args = ['summary', '--update', ...(options.gpgSign ?? []).map((k) => `--gpg-sign=${k}`)];
    if (options.gpgHomedir && options.gpgSign?.length) args.push(`--gpg-homedir=${options.gpgHomedir}`);
    await this.run(args, `cannot update the summary of ${this.path}${options.gpgSign?.length ? ` signed with key ${options.gpgSign.join(', ')}` : ''}`);
  }

  /** Sets a key of the repository's config file (`ostree config set SECTION.KEY VALUE`). */
  async setConfig(key: string, value: string): Promise<void> {
    await this.run(['config', 'set', key, value], `cannot set ${key} in ${this.path}/config`);
  }

  /** Adds a remote to upgrade from; the images deblayer writes do not verify GPG signatures unless told to. */
  async addRemote(name: string, url: string, options: { gpgVerify: boolean; gpgImport?: string }): Promise<void> {
    const args = ['remote', 'add', ...(options.gpgVerify ? [] : ['--no-gpg-verify'])];
    if (options.gpgImport) args.push(`--gpg-import=${options.gpgImport}`);
    await this.run([...args, name, url], `cannot add remote ${name} (${url})`);
  }

  /** Imports the keys of KEYFILE into REMOTE's keyring. */
  async importRemoteKey(name: string, keyFile: string): Promise<void> {
    await this.run(['remote', 'gpg-import', `--keyring=${keyFile}`, name], `cannot import ${keyFile} for remote ${name}`);
  }

  async deleteRemote(name: string): Promise<void> {
    await this.run(['remote', 'delete', name], `cannot delete remote ${name}`);
  }

  /** The URL of remote NAME, or undefined when there is no such remote. */
  async remoteUrl(name: string): Promise<string | undefined> {
    const r = await this.run(['remote', 'show-url', name], `cannot read remote ${name}`, { allowFailure: true });
    return r.exitCode === 0 ? r.stdout.trim() : undefined;
  }

  /** Whether pulls from remote NAME verify GPG signatures (gpg-verify, true unless set otherwise). */
  async remoteGpgVerify(name: string): Promise<boolean> {
    const r = await this.run(['config', 'get', `remote "${name}".gpg-verify`], `cannot read remote ${name}`, { allowFailure: true });
    return r.exitCode !== 0 || r.stdout.trim() !== 'false';
  }

  /** A new ref REF at COMMIT (an error if REF exists). */
  async createRef(ref: string, commit: string): Promise<void> {
    await this.run(['refs', `--create=${ref}`, commit], `cannot create ref ${ref}`);
  }

  async deleteRef(ref: string): Promise<void> {
    await this.run(['refs', '--delete', ref], `cannot delete ref ${ref}`);
  }

  /** Deletes every object no ref reaches; returns ostree's summary line. */
  async prune(): Promise<string> {
    const r = await this.run(['prune', '--refs-only'], `cannot prune ${this.path}`);
    return r.stdout.trim().split('\n').pop() ?? '';
  }

  /** Refs under PREFIX, as full names (`ostree refs PREFIX` prints them relative to it). */
  async refs(prefix: string): Promise<string[]> {
    const r = await this.run(['refs', prefix], `cannot list refs under ${prefix}`);
    return r.stdout
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => `${prefix.replace(/\/+$/, '')}/${l}`);
  }

  /** `ls -R -C` of the whole commit: every path with its checksum. */
  async listTree(commit: string): Promise<string> {
    const r = await this.run(['ls', '-R', '-C', commit, '/'], `cannot list commit ${short(commit)}`);
    return r.stdout;
  }

  /** Checks out one subtree as plain copies (never hardlinks into the repo), without chown. */
  async checkoutCopy(commit: string, subpath: string, dest: string): Promise<void> {
    await this.run(
      ['checkout', '--user-mode', '--force-copy', `--subpath=${absolute(subpath)}`, commit, dest],
      `cannot check out ${absolute(subpath)} of ${short(commit)}`,
    );
  }

  /**
   * Checks out a whole commit as hardlinks to the repository's objects (same
   * file system): a read-only lower for an overlay, never written through.
   */
  async checkoutHardlinks(commit: string, dest: string, subpath?: string): Promise<void> {
    const sub = subpath ? [`--subpath=${subpath}`] : [];
    await this.run(['checkout', '--require-hardlinks', ...sub, commit, dest], `cannot check out ${short(commit)}${subpath ?? ''} into ${dest}`);
  }

  /** Subject, time, parent and metadata of a commit, from one `ostree show --raw`. */
  async commitInfo(commit: string): Promise<CommitInfo> {
    const r = await this.run(['show', '--raw', commit], `cannot read commit ${short(commit)}`);
    return parseRawCommit(commit, r.stdout);
  }

  /** The checksum of a commit's root (its tree and the root directory's metadata: what two builds of one tree share), from `ostree show`. */
  async contentChecksum(commit: string): Promise<string> {
    const r = await this.run(['show', commit], `cannot read commit ${short(commit)}`);
    const m = /^ContentChecksum:\s+([0-9a-f]{64})$/m.exec(r.stdout);
    if (!m) throw new CommandError(OSTREE, `ostree show ${short(commit)} printed no ContentChecksum`);
    return m[1]!;
  }

  /** The paths that differ between two commits: A(dded), D(eleted), M(odified) from FROM to TO. */
  async diff(from: string, to: string): Promise<{ change: 'A' | 'D' | 'M'; path: string }[]> {
    const r = await this.run(['diff', from, to], `cannot compare ${short(from)} with ${short(to)}`);
    return r.stdout
      .split('\n')
      .map((l) => /^([ADM])\s+(\/.*)$/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ change: m[1] as 'A' | 'D' | 'M', path: m[2]! }));
  }

  async fsck(): Promise<void> {
    await this.run(['fsck', '--quiet'], `repository ${this.path} failed its consistency check`);
  }
}

export interface CommitInfo {
  checksum: string;
  parent?: string;
  subject: string;
  /** ISO 8601 time of the commit. */
  date: string;
  /** Commit metadata: strings, numbers and lists of them, as deblayer writes. */
  metadata: Record<string, unknown>;
}

function absolute(path: string): string {
  return path.startsWith('/') ? path : `/${path}`;
}

export function short(checksum: string): string {
  return /^[0-9a-f]{64}$/.test(checksum) ? checksum.slice(0, 10) : checksum;
}

// `ostree ls` lines: "d00755 0 0      0 /usr" or "l00777 0 0 0 /bin -> usr/bin".
export function parseLsLine(line: string): LsEntry {
  const m = /^([-dl])([0-7]+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(.*)$/.exec(line);
  if (!m) throw new CommandError(OSTREE, `unexpected output of ostree ls: ${line}`);
  const type = m[1] === 'd' ? 'directory' : m[1] === 'l' ? 'symlink' : 'file';
  let path = m[6]!;
  let target: string | undefined;
  if (type === 'symlink') {
    const i = path.indexOf(' -> ');
    target = path.slice(i + 4);
    path = path.slice(0, i);
  }
  return {
    type,
    mode: parseInt(m[2]!, 8) & 0o7777,
    uid: Number(m[3]),
    gid: Number(m[4]),
    size: Number(m[5]),
    path,
    ...(target !== undefined ? { target } : {}),
  };
}

// GVariant text format, as `ostree show --print-metadata-key` prints it: only
// the shapes deblayer writes (strings, string arrays, integers).
export function parseGVariantValue(text: string): unknown {
  const t = text.trim();
  if (t.startsWith("'") || t.startsWith('"')) return parseGString(t);
  if (t.startsWith('<') && t.endsWith('>')) return parseGVariantValue(t.slice(1, -1));
  if (t.startsWith('@as [')) return parseGVariantValue(t.slice(4));
  if (t.startsWith('[')) {
    const inner = t.slice(1, -1).trim();
    if (inner === '') return [];
    return splitTopLevel(inner).map(parseGVariantValue);
  }
  const n = /^(?:u?int\d+|byte|uint64|int64|uint32|int32)?\s*(-?\d+)$/.exec(t);
  if (n) return Number(n[1]);
  if (t === 'true' || t === 'false') return t === 'true';
  return t;
}

function parseGString(t: string): string {
  const q = t[0]!;
  let out = '';
  for (let i = 1; i < t.length; i++) {
    const c = t[i]!;
    if (c === '\\') {
      const n = t[++i]!;
      out += n === 'n' ? '\n' : n === 't' ? '\t' : n;
    } else if (c === q) break;
    else out += c;
  }
  return out;
}

function splitTopLevel(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote = '';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '[' || c === '{' || c === '(' || c === '<') depth++;
    else if (c === ']' || c === '}' || c === ')' || c === '>') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(s.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(s.slice(start).trim());
  return parts;
}

function parseGVariantDict(text: string): Record<string, unknown> {
  const t = text.trim().replace(/^@a\{sv\}\s*/, '').replace(/^\{/, '').replace(/\}$/, '');
  const out: Record<string, unknown> = {};
  if (t.trim() === '') return out;
  for (const item of splitTopLevel(t)) {
    const i = item.indexOf(':');
    out[String(parseGVariantValue(item.slice(0, i)))] = parseGVariantValue(item.slice(i + 1));
  }
  return out;
}

// `ostree show --raw`: "({metadata}, @ay [parent bytes], [related], 'subject', 'body', uint64 T, [root], [meta])"
export function parseRawCommit(commit: string, raw: string): CommitInfo {
  const t = raw.slice(raw.indexOf('(')).trim().replace(/^\(/, '').replace(/\)$/, '');
  const parts = splitTopLevel(t);
  const hex = [...(parts[1] ?? '').matchAll(/0x([0-9a-f]{2})/g)].map((m) => m[1]).join('');
  const subject = String(parseGVariantValue(parts[3] ?? "''"));
  const ts = /(\d+)\s*$/.exec(parts[5] ?? '');
  return {
    checksum: commit,
    ...(hex.length === 64 ? { parent: hex } : {}),
    subject,
    date: ts ? new Date(Number(ts[1]) * 1000).toISOString() : '',
    metadata: parseGVariantDict(parts[0] ?? '{}'),
  };
}

export interface Deployment {
  /** Position in `ostree admin status` (0 = the default, or the staged one). */
  index: number;
  stateroot: string;
  checksum: string;
  serial: number;
  booted: boolean;
  staged: boolean;
  pending: boolean;
  rollback: boolean;
  /** `origin refspec` as ostree shows it, when there is one. */
  refspec?: string;
  /** `ostree admin unlock`: a writable overlay on /usr (development, hotfix or transient), as ostree shows it. */
  unlocked?: string;
}

export type UnlockMode = 'development' | 'hotfix' | 'transient';

/** `ostree admin` on a sysroot (`/` for the running host). */
export class OstreeSysroot {
  constructor(readonly path: string) {}

  get repo(): OstreeRepo {
    return new OstreeRepo(`${this.path.replace(/\/+$/, '')}/ostree/repo`);
  }

  /**
   * Deploys COMMIT as the new default deployment. On the booted host the
   * deployment is staged (finished at shutdown, as rpm-ostree does); an
   * offline sysroot is deployed directly.
   *
   * --no-prune: ostree still removes the deployments that drop out, but does
   * not walk the whole repository for unreachable objects. That walk follows
   * the base's size, not the layer's, and finds next to nothing here: every deployed commit is
   * kept by its deblayer/state ref. `deblayer cleanup` prunes, as rpm-ostree
   * does its own pruning apart from ostree's deploy.
   */
  async deploy(commit: string, options: { os: string; originFile: string; stage: boolean; kargs?: string[] }): Promise<void> {
    const args = ['admin', 'deploy', '--no-prune', `--sysroot=${this.path}`, `--os=${options.os}`, `--origin-file=${options.originFile}`];
    if (options.stage) args.push('--stage');
    for (const karg of options.kargs ?? []) args.push(`--karg=${karg}`);
    args.push(commit);
    await ostree(args, `cannot deploy ${short(commit)}`);
  }

  /** A new, empty sysroot at PATH with stateroot OS (`ostree admin init-fs` and `os-init`). */
  static async create(path: string, os: string): Promise<OstreeSysroot> {
    mkdirSync(path, { recursive: true });
    await ostree(['admin', 'init-fs', path], `cannot create a sysroot in ${path}`);
    await ostree(['admin', 'os-init', os, `--sysroot=${path}`], `cannot create stateroot ${os} in ${path}`);
    return new OstreeSysroot(path);
  }

  /** The path of a deployment's checkout and its origin file. */
  deploymentPath(d: Pick<Deployment, 'stateroot' | 'checksum' | 'serial'>): string {
    return `${this.path.replace(/\/+$/, '')}/ostree/deploy/${d.stateroot}/deploy/${d.checksum}.${d.serial}`;
  }

  async deployments(): Promise<Deployment[]> {
    // ostree's own words for this are "opendir(ostree/repo): No such file or directory".
    if (!existsSync(`${this.path.replace(/\/+$/, '')}/ostree/deploy`)) {
      throw new NotASysrootError(`${this.path} is not an OSTree sysroot (no ostree/deploy): deblayer runs on an OSTree host, or on the sysroot --sysroot names`);
    }
    const r = await ostree(['admin', 'status', `--sysroot=${this.path}`], `cannot read the deployments of ${this.path}`);
    return parseAdminStatus(r.stdout);
  }

  /**
   * `ostree admin unlock` of the booted deployment: an overlay on /usr until
   * the next boot (development: writable; transient: read-only but for
   * whoever remounts it in a mount namespace of its own), or, with hotfix,
   * for good.
   */
  async unlock(mode: UnlockMode): Promise<void> {
    const flag = mode === 'development' ? [] : [`--${mode}`];
    await ostree(['admin', 'unlock', ...flag, `--sysroot=${this.path}`], 'cannot unlock /usr of the booted deployment');
  }
}

// `ostree remote summary` (2022.7): a block per ref,
//   "* fx/base", "    Latest Commit (142 bytes):", "      <checksum>", "    Version (ostree.commit.version): 12.3".
export function parseRemoteSummary(text: string): Map<string, { commit: string; version?: string }> {
  const out = new Map<string, { commit: string; version?: string }>();
  let current: { commit: string; version?: string } | undefined;
  for (const line of text.split('\n')) {
    const ref = /^\* (\S+)$/.exec(line);
    if (ref) {
      current = { commit: '' };
      out.set(ref[1]!, current);
      continue;
    }
    if (!current) continue;
    const commit = /^\s+([0-9a-f]{64})$/.exec(line);
    if (commit && current.commit === '') current.commit = commit[1]!;
    const version = /^\s+Version \(ostree\.commit\.version\): (.+)$/.exec(line);
    if (version) current.version = version[1]!;
    if (line === '') current = undefined;
  }
  for (const [ref, v] of out) if (v.commit === '') out.delete(ref);
  return out;
}

// `ostree admin status` (2022.7 has no --json):
//   "* debian 4005...c0.1 (pending)" then indented "Version: 12", "origin refspec: debian/12".
export function parseAdminStatus(text: string): Deployment[] {
  const out: Deployment[] = [];
  for (const line of text.split('\n')) {
    const m = /^([* ]) (\S+) ([0-9a-f]{64})\.(\d+)(?: \(([^)]*)\))?\s*$/.exec(line);
    if (m) {
      const flags = (m[5] ?? '').split(/[ ,;]+/);
      out.push({
        index: out.length,
        stateroot: m[2]!,
        checksum: m[3]!,
        serial: Number(m[4]),
        booted: m[1] === '*',
        staged: flags.includes('staged'),
        pending: flags.includes('pending'),
        rollback: flags.includes('rollback'),
      });
      continue;
    }
    const o = /^\s+origin refspec: (\S+)/.exec(line);
    if (o && out.length > 0) out[out.length - 1]!.refspec = o[1]!;
    const u = /^\s+Unlocked: (\S+)/.exec(line);
    if (u && out.length > 0) out[out.length - 1]!.unlocked = u[1]!;
  }
  return out;
}
