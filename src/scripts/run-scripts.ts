// The scripts stage of a transaction: the new packages configured by the real
// dpkg, in a bubblewrap sandbox over a writable view of the composed commit,
// and what that changed committed on top of it as one more layer.
//
// Composition starts from the base every time, so every layered package is
// new to the composed tree: all of them are `unpacked` in its dpkg status and
// all of them are configured on every recomposition, as on a fresh install.
// Configuring them again costs the scripts' time, but the result never
// depends on what an older deployment happened to hold.
//
// Order, as dpkg installs:
//   1. each new package's `preinst install`, in apt's order, over a view of the
//      *base* (its files are not there yet, as for dpkg; nginx-common's preinst
//      removes files that it ships itself); what a preinst changes in /etc and
//      makes in /var is kept, as with dpkg (sgml-base's preinst makes
//      /etc/sgml; mariadb-server's makes /var/lib/mysql and gives it its
//      group), but not in /usr, nor at a path a new package ships, which its
//      unpack replaces;
//   2. the host's accounts seeded into the view, policy-rc.d denying every
//      service start (the fresh /run has no /run/systemd/system, so invoke-rc.d
//      would start services through sysv), /var made by the tree's tmpfiles.d;
//   3. the new packages' trigger interests registered and their triggers
//      activated (triggers.ts), then `dpkg --configure --pending`: dependency
//      order, postinst configure with dpkg's arguments and environment, and
//      triggers processed once at the end;
//   4. the upper directories read back (diff.ts, sysusers.ts) and committed,
//      with the composed commit as its parent: `ostree diff STATE^ STATE` shows
//      what the scripts changed, and the composed commit stays reachable for
//      as long as the state is kept (without a ref of its own, the next prune,
//      libostree's after any reorder among them, would collect it).

import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { infoName } from '../compose/dpkg-database.js';
import type { PackageRecord } from '../vocabulary/packages.js';
import { mergeScriptsTmpfiles } from './tmpfiles-merge.js';
import { DeblayerError, ScriptError } from '../errors.js';
import { runSandboxed, type SandboxSpec } from '../exec/bwrap.js';
import { commitLayer } from '../exec/libostree.js';
import { copyTree } from '../exec/cp.js';
import { SyslogSink, type SyslogMessage } from '../exec/syslog-sink.js';
import { MountNamespace } from '../exec/namespace.js';
import type { OstreeRepo } from '../exec/ostree.js';
import { tail, type RunResult } from '../exec/run.js';
import { DELETED_FROM_VAR, overlaidFiles, pruneUsrLayer, varState, writeFactory } from './diff.js';
import { DpkgOutput, type PackageOutput } from './dpkg-output.js';
import { accountsOfLines, accountsOfSysusers, formatSysusers, isOverride, OLD_SYSUSERS_CONF, overridesFor, seedAccounts, SYSUSERS_CONF, sysusersLines, type AccountTexts } from './sysusers.js';
import { makeNode } from '../exec/mknod.js';
import { accountsOf, type KnownAccount } from '../base/accounts.js';
import { readTextIfPresent } from '../read-text.js';
import { provideHostSecrets } from './host-secrets.js';
import { declaredDirectories, dropSupersededLines } from './tmpfiles-merge.js';
import { activations, fileTriggerPaths, interestLines } from './triggers.js';
import { carryPreinstEtc, closeWritable, inUsr, makeDeclaredVarDirs, mountVar, openView, viewDir, type View } from './view.js';

export const SCRIPTS_TMPFILES = 'lib/tmpfiles.d/deblayer-00-scripts.conf';

export interface ScriptsInput {
  repo: OstreeRepo;
  /** base + packages + dpkg database with the new packages `unpacked`. */
  composed: string;
  base: string;
  /** The dpkg database, relative to the root (usr/lib/sysimage/dpkg). */
  database: string;
  /** The new packages, in apt's order. */
  records: PackageRecord[];
  /** /etc of the deployment layered on: its accounts are the host's. */
  hostEtc?: string;
  /** sysusers.d lines deblayer wrote for that deployment. */
  previousSysusers?: string;
  /** Accounts scripts created on this sysroot before: they get the same ids again. */
  knownAccounts?: KnownAccount[];
  /** Packages whose scripts are not run (--skip-scripts). */
  skip: string[];
  branch: string;
  subject: string;
  metadata: Record<string, string>;
  onLine?: (line: string) => void;
  /** Each package dpkg has configured (or purged), as its status-fd tells. */
  onPackageDone?: (pkg: string) => void;
  /** Filled as the scripts run, failures included: the transaction log. */
  output?: PackageOutput[];
}

export interface ScriptsResult {
  commit: string;
  /** Output by package and step, for the transaction log. */
  output: PackageOutput[];
  /** Lines for the user: secrets left out, accounts and /var state carried. */
  notices: string[];
  sysusers: string[];
  /** The accounts the sysusers.d lines pin, with their ids: the sysroot's record. */
  accounts: KnownAccount[];
}

export const ACCOUNT_FILES = ['passwd', 'group', 'shadow', 'gshadow'];
const POLICY_RC_D = 'sbin/policy-rc.d';

// Arguments: package and trigger, in pairs. dpkg exits 0, 1 or 2: 125 can only be a failed activation.
const TRIGGER_FAILED = 125;
const CONFIGURE = `
while [ $# -gt 0 ]; do
  dpkg-trigger --by-package="$1" --no-await "$2" >&2 || { echo "dpkg-trigger --by-package=$1 $2: exit status $?" >&2; exit ${TRIGGER_FAILED}; }
  shift 2
done
exec dpkg --status-fd 3 --abort-after=1 --configure --pending 3>&1 2>&1
`;

function scriptOf(r: PackageRecord, name: string): Buffer | undefined {
  const m = r.members.find((x) => x.name === name);
  return m ? Buffer.from(m.data, 'base64') : undefined;
}

export function spec(v: View, varDir: string, extra: Partial<SandboxSpec> = {}): SandboxSpec {
  return { usr: v.usr, var: varDir, ...extra };
}

/** The dpkg database's path inside the view's /usr (the view mounts usr/ on its own). */
function databaseInUsr(input: ScriptsInput): string {
  return input.database.replace(/^usr\//, '');
}

// The run's state, closed in runScripts' finally whatever stage failed.
export interface Run {
  input: ScriptsInput;
  ns: MountNamespace;
  output: PackageOutput[];
  /** The views' staging directories, removed once the namespace is closed, also when a view failed half-made. */
  scratch: string[];
  /** The base alone, where preinsts run (only when a package has one). */
  baseView?: View;
  syslog?: SyslogSink;
}

/** The host's accounts as the scripts see them, and those scripts made on this sysroot before. */
export interface HostAccounts {
  host: AccountTexts;
  known: KnownAccount[];
  /** passwd, group, shadow, gshadow with the known accounts added, for the views. */
  seeded: Map<string, string>;
}

/**
 * The stages, in order: a view of the composed commit; preinsts over the base;
 * the view prepared (accounts, no service starts, /var); dpkg configures
 * (triggers, postinsts); what that changed is read back, the namespace closed,
 * and the result committed on top of the composed commit.
 */
export async function runScripts(input: ScriptsInput): Promise<ScriptsResult> {
  const run: Run = { input, ns: await MountNamespace.open(), output: input.output ?? [], scratch: [] };
  try {
    const view = await openScriptsView(run, { base: input.base, commit: input.composed }, 'c');
    if (!existsSync(inUsr(view, 'bin/dpkg'))) {
      throw new DeblayerError(
        `the base has no /usr/bin/dpkg: cannot run the maintainer scripts of ${input.records.map((r) => r.package).join(', ')} (--skip-scripts PKG layers a package without them)`,
      );
    }
    const accounts = hostAccounts(input, view);
    const runnable = input.records.filter((r) => !input.skip.includes(r.package));
    await runPreinsts(run, runnable, accounts.seeded);
    await prepareView(run, view, accounts.seeded);
    const replaced = replaceSkippedScripts(view, input);
    const { after, loggedErrors } = await configurePending(run, view);
    await closeWritable(view);
    const back = await readBack(run, view, { accounts, after, replaced, runnable });
    return await commitRun(run, view, { ...back, after, loggedErrors }, input.composed);
  } finally {
    await closeRun(run);
  }
}

/**
 * The run's view of SOURCE, and the syslog sink the scripts log to, in the
 * view's directory: the sink's python starts while the view is set up.
 */
export async function openScriptsView(run: Run, source: { base: string; commit: string }, name: string): Promise<View> {
  const { input } = run;
  const dir = scratchDir(run, name);
  const [view, sink] = await Promise.allSettled([openView(input.repo, source, input.database, run.ns, dir), SyslogSink.open(dir)]);
  if (sink.status === 'fulfilled') run.syslog = sink.value;
  if (view.status === 'rejected') throw view.reason;
  if (sink.status === 'rejected') throw sink.reason;
  return view.value;
}

/** 4. What the scripts changed, committed onto the commit they ran over, PARENT its parent. */
export async function commitRun(
  run: Run,
  view: View,
  back: { notices: string[]; sysusers: string[]; after: { passwd: string; group: string }; loggedErrors: string[] },
  parent: string,
): Promise<ScriptsResult> {
  const { input } = run;
  const committed = await commitLayer({
    repo: input.repo.path,
    onto: input.composed,
    dir: view.layer,
    parent,
    branch: input.branch,
    subject: input.subject,
    metadata: input.metadata,
  });
  const notices = [...back.loggedErrors, ...back.notices];
  return { commit: committed.commit, output: run.output, notices, sysusers: back.sysusers, accounts: accountsOfLines(back.sysusers, back.after) };
}

/** Ends what a run started, whatever stage failed. */
export async function closeRun(run: Run): Promise<void> {
  run.syslog?.kill();
  await run.ns.close();
  for (const dir of run.scratch) rmSync(dir, { recursive: true, force: true });
}

/** A staging directory for one of RUN's views, removed by closeRun. */
function scratchDir(run: Run, name: string): string {
  const dir = viewDir(run.input.repo, name);
  run.scratch.push(dir);
  return dir;
}

// The host's accounts: what the scripts see, and what their new users and
// groups are told from; with the accounts scripts made on this sysroot
// before, so that adduser finds them and they keep their ids.
export function hostAccounts(input: ScriptsInput, view: View): HostAccounts {
  const hostText = (f: string) =>
    input.hostEtc && existsSync(join(input.hostEtc, f)) ? readFileSync(join(input.hostEtc, f), 'utf8') : readTextIfPresent(inUsr(view, `etc/${f}`));
  const host: AccountTexts = { passwd: hostText('passwd'), group: hostText('group'), shadow: hostText('shadow'), gshadow: hostText('gshadow') };
  const known = [
    ...(input.knownAccounts ?? []),
    ...accountsOfSysusers(input.previousSysusers ?? '', host.group).filter((a) => !input.knownAccounts?.some((k) => k.kind === a.kind && k.name === a.name)),
  ];
  const seeded = seedAccounts(host, known).files;
  return { host, known, seeded: new Map<string, string>(ACCOUNT_FILES.map((f) => [f, seeded[f as keyof AccountTexts]])) };
}

/** 1. preinst install, over the base (with the host's accounts: a preinst may add a user). */
async function runPreinsts(run: Run, runnable: PackageRecord[], seeded: Map<string, string>): Promise<void> {
  const preinsts = runnable.filter((r) => scriptOf(r, 'preinst'));
  if (preinsts.length === 0) return;
  const { input, ns } = run;
  const baseView = (run.baseView = await openView(input.repo, { base: input.base, commit: input.base }, input.database, ns, scratchDir(run, 'b')));
  for (const [f, data] of seeded) writeFileSync(inUsr(baseView, `etc/${f}`), data);
  const ci = join(baseView.dir, 'ci');
  mkdirSync(ci);
  for (const r of preinsts) writeFileSync(join(ci, `${r.package}.preinst`), scriptOf(r, 'preinst')!, { mode: 0o755 });
  for (const r of preinsts) {
    const out = new DpkgOutput();
    const res = await runSandboxed(
      ns,
      spec(baseView, baseView.varLower, {
        devLog: run.syslog!.socket,
        readOnly: [{ source: ci, dest: '/run/deblayer-ci' }],
        env: {
          DPKG_MAINTSCRIPT_PACKAGE: r.package,
          DPKG_MAINTSCRIPT_NAME: 'preinst',
          DPKG_MAINTSCRIPT_ARCH: r.architecture,
          DPKG_MAINTSCRIPT_PACKAGE_REFCOUNT: '1',
          DPKG_MAINTSCRIPT_DEBUG: '0',
          DPKG_ADMINDIR: '/var/lib/dpkg',
        },
      }),
      ['sh', '-c', 'exec "$@" 2>&1', 'sh', `/run/deblayer-ci/${r.package}.preinst`, 'install'],
      `cannot run the preinst of ${r.package}`,
      { allowFailure: true, onLine: (l) => input.onLine?.(l) },
    );
    for (const l of res.stdout.split('\n').filter((x) => x !== '')) out.line(l);
    run.output.push({ package: r.package, step: 'preinst', lines: out.text().split('\n').filter((x) => x !== '') });
    if (res.exitCode !== 0) {
      throw new ScriptError(r.package, 'preinst', res.exitCode, tail(res.stdout + '\n' + res.stderr), { detail: res.stdout + res.stderr });
    }
  }
}

// 2. The host's accounts with those the preinsts added (and what else they
// changed in /etc and made in /var; their changes in /usr are dropped), no
// service starts, /var.
export async function prepareView(run: Run, view: View, seeded: Map<string, string>): Promise<void> {
  const { baseView, ns } = run;
  for (const f of ACCOUNT_FILES) {
    const seed = baseView && existsSync(inUsr(baseView, `etc/${f}`)) ? readFileSync(inUsr(baseView, `etc/${f}`)) : seeded.get(f);
    if (seed) writeFileSync(inUsr(view, `etc/${f}`), seed);
  }
  writeFileSync(inUsr(view, POLICY_RC_D), '#!/bin/sh\n# deblayer: no service starts while a layer is composed.\nexit 101\n');
  chmodSync(inUsr(view, POLICY_RC_D), 0o755);
  if (existsSync(inUsr(view, 'bin/systemd-tmpfiles'))) {
    // Lines that cannot apply offline fail on their own; the rest of /var is made.
    await runSandboxed(ns, spec(view, view.varLower), ['systemd-tmpfiles', '--create', '--prefix=/var'], 'cannot make /var', { allowFailure: true });
  }
  makeDeclaredVarDirs(view, run.input.records);
  await mountVar(view);
  if (baseView) {
    const shipped = new Set(run.input.records.flatMap((r) => r.files));
    carryPreinstEtc(baseView, view, shipped, new Set(ACCOUNT_FILES.map((f) => `etc/${f}`)));
    // What the preinsts made in /var, as the scripts' own work (dpkg's links are the view's already).
    rmSync(join(baseView.varLower, 'lib/dpkg'), { force: true });
    rmSync(join(baseView.varLower, 'cache/debconf'), { force: true });
    await copyTree(baseView.varLower, ns.path(view.var), { hardlinks: false });
  }
}

/**
 * Escape hatch: a skipped package's scripts are replaced in the view, and the
 * originals kept in the commit. Returns the paths to leave out of the layer.
 */
function replaceSkippedScripts(view: View, input: ScriptsInput): Set<string> {
  const dbInUsr = databaseInUsr(input);
  const replaced = new Set<string>([POLICY_RC_D]);
  for (const r of input.records.filter((x) => input.skip.includes(x.package))) {
    for (const s of ['postinst', 'preinst']) {
      const path = `${dbInUsr}/info/${infoName(r)}.${s}`;
      if (!scriptOf(r, s)) continue;
      writeFileSync(inUsr(view, path), `#!/bin/sh\n# deblayer --skip-scripts ${r.package}\nexit 0\n`);
      replaced.add(path);
    }
  }
  return replaced;
}

/**
 * dpkg in the sandbox over VIEW (SCRIPT, for sh -c, with ARGS): its output
 * kept by package and step with what the scripts logged, a failure told by
 * the package and script at fault (CHECK sees the result first). Returns what
 * the scripts logged as errors.
 */
export async function runDpkg(run: Run, view: View, script: string, args: string[], what: string, check?: (res: RunResult) => void): Promise<string[]> {
  const dpkg = new DpkgOutput();
  const res = await runSandboxed(run.ns, spec(view, view.var, { devLog: run.syslog!.socket }), ['sh', '-c', script, 'sh', ...args], `cannot run ${what}`, {
    allowFailure: true,
    onLine: (l, stream) => {
      if (stream === 'stdout') dpkg.line(l);
      const done = stream === 'stdout' ? /^status: ([^:\s]+)(?::\S+)?: (installed|not-installed)$/.exec(l) : null;
      if (done) run.input.onPackageDone?.(done[1]!);
      if (!/^(status|processing): /.test(l)) run.input.onLine?.(l);
    },
  });
  check?.(res);
  run.output.push(...dpkg.sections.filter((s) => s.lines.length > 0));
  const logged = await run.syslog!.close();
  run.syslog = undefined;
  run.output.push(...syslogSections(logged));
  if (res.exitCode !== 0) {
    const f = dpkg.failures[0];
    if (f) throw new ScriptError(f.package, f.script, f.status, f.lastLines, { detail: dpkg.text() });
    throw new DeblayerError(`${what} failed with exit status ${res.exitCode}: ${tail(res.stdout + res.stderr)}`, { detail: res.stdout + res.stderr });
  }
  return syslogErrors(logged);
}

/** 3. Triggers, then dpkg --configure --pending; returns the accounts after, and what scripts logged as errors. */
async function configurePending(run: Run, view: View): Promise<{ after: { passwd: string; group: string }; loggedErrors: string[] }> {
  const { input } = run;
  const dbInUsr = databaseInUsr(input);
  const interests = interestLines(input.records);
  const triggersDir = inUsr(view, `${dbInUsr}/triggers`);
  mkdirSync(triggersDir, { recursive: true });
  if (interests.file.length > 0) writeFileSync(join(triggersDir, 'File'), readTextIfPresent(join(triggersDir, 'File')) + interests.file.map((l) => `${l}\n`).join(''));
  for (const [name, lines] of interests.named) writeFileSync(join(triggersDir, name), readTextIfPresent(join(triggersDir, name)) + lines.map((l) => `${l}\n`).join(''));
  const activate = activations(input.records, fileTriggerPaths(readTextIfPresent(join(triggersDir, 'File'))));
  // The activations run in dpkg's own sandbox, just before it: a sandbox of their own would cost a fork and three execs.
  const loggedErrors = await runDpkg(run, view, CONFIGURE, activate.flatMap((a) => [a.package, a.trigger]), 'dpkg --configure --pending', (res) => {
    if (res.exitCode === TRIGGER_FAILED) throw new DeblayerError(`dpkg-trigger failed: ${tail(res.stderr)}`, { detail: res.stdout + res.stderr });
  });
  const after = { passwd: readTextIfPresent(inUsr(view, 'etc/passwd')), group: readTextIfPresent(inUsr(view, 'etc/group')) };
  return { after, loggedErrors };
}

export interface ReadBackInput {
  accounts: HostAccounts;
  after: { passwd: string; group: string };
  replaced: Set<string>;
  runnable: PackageRecord[];
}

/**
 * 4. What the scripts changed, made into the layer to commit: /usr changes
 * pruned, /var as factory files and tmpfiles lines, accounts as sysusers.d
 * lines, secrets left for the host. The lower layers are compared through the
 * namespace's mounts, so the namespace is closed only once they are read.
 */
export async function readBack(run: Run, view: View, r: ReadBackInput): Promise<{ notices: string[]; sysusers: string[] }> {
  const { input } = run;
  const pruned = pruneUsrLayer(view.usrUpper, view.lowerUsr, input.database, r.replaced);
  const keep = new Set(r.accounts.known.map((a) => `${a.kind === 'user' ? 'u' : 'g'} ${a.name}`));
  const sysusers = sysusersLines(r.accounts.host, r.after, input.previousSysusers, keep);
  const tree = treeSysusers(view.lowerUsr, view.usrUpper);
  const overrides = overridesFor(tree.files, sysusers);
  // An override of a file the tree no longer has (its package purged), or that no longer declares a pinned account.
  const stale = [...tree.overrides.keys()].filter((name) => !overrides.has(name));
  for (const [name, text] of overrides) if (tree.overrides.get(name) === text) overrides.delete(name);
  const vars = varState(view.varUpper, view.varLower, accountsOf(r.after.passwd, r.after.group));
  // A directory a package's own tmpfiles.d line declares is that line's at boot, as on a mutable
  // system (polkitd's /var/lib/polkit-1): a second line would be a "Duplicate line" warning.
  const declared = declaredDirectories(view.lowerUsr, view.usrUpper);
  vars.lines = vars.lines.filter((l) => !(l.type === 'd' && declared.has(l.path)));
  writeFactory(view.layer, vars);
  const deleted = vars.dropped.filter((d) => d.why === DELETED_FROM_VAR).map((d) => d.path);
  if (vars.lines.length > 0 || deleted.length > 0) {
    // The commit the scripts ran over may have lines of its own (an earlier state, a composed base): they stay unless changed.
    const merged = mergeScriptsTmpfiles(readTextIfPresent(join(view.lowerUsr, SCRIPTS_TMPFILES)), vars.lines, deleted);
    if (merged !== undefined) {
      mkdirSync(join(view.usrUpper, 'lib/tmpfiles.d'), { recursive: true });
      writeFileSync(join(view.usrUpper, SCRIPTS_TMPFILES), merged, { mode: 0o644 });
    }
    dropSupersededLines(view.lowerUsr, view.usrUpper, vars.lines, SCRIPTS_TMPFILES);
  }
  await run.ns.close();
  if (sysusers.length > 0) {
    mkdirSync(join(view.usrUpper, 'lib/sysusers.d'), { recursive: true });
    writeFileSync(join(view.usrUpper, SYSUSERS_CONF), formatSysusers(sysusers), { mode: 0o644 });
  }
  if (overrides.size + stale.length > 0) mkdirSync(join(view.usrUpper, 'etc/sysusers.d'), { recursive: true });
  for (const [name, text] of overrides) writeFileSync(join(view.usrUpper, 'etc/sysusers.d', name), text, { mode: 0o644 });
  for (const name of stale) {
    // A whiteout: the layer deletes the lower commit's file.
    const path = join(view.usrUpper, 'etc/sysusers.d', name);
    rmSync(path, { force: true });
    await makeNode(path, 'char', 0o600, 0, 0);
  }
  const notices = provideHostSecrets(view.usrUpper, [...pruned.secrets, ...vars.secrets], (path) => scriptsNaming(r.runnable, path));
  return { notices, sysusers };
}

/**
 * The sysusers.d files of the tree the scripts left (name -> text), as
 * sysusers reads them, deblayer's own aside: usr/etc/sysusers.d (the tree's
 * /etc) over usr/lib/sysusers.d. `overrides` holds the /etc files that are
 * deblayer's overrides (overridesFor), made again from the files they override.
 */
function treeSysusers(lowerUsr: string, upperUsr: string): { files: Map<string, string>; overrides: Map<string, string> } {
  const lib = overlaidFiles(lowerUsr, upperUsr, 'lib/sysusers.d', (n) => n.endsWith('.conf') && ![SYSUSERS_CONF, OLD_SYSUSERS_CONF].includes(`lib/sysusers.d/${n}`));
  const etc = overlaidFiles(lowerUsr, upperUsr, 'etc/sysusers.d', (n) => n.endsWith('.conf'));
  const overrides = new Map([...etc].filter(([name, text]) => isOverride(name, text)));
  // /etc's file of a name replaces /usr/lib's; an empty one (a mask, a link to /dev/null) leaves nothing.
  const files = new Map([...lib, ...[...etc].filter(([name]) => !overrides.has(name))].filter(([, text]) => text !== ''));
  return { files, overrides };
}

/** The packages among RECORDS whose maintainer scripts name PATH (or its file name): who made a file there. */
function scriptsNaming(records: PackageRecord[], path: string): string[] {
  const name = path.split('/').pop()!;
  return records
    .filter((r) => ['preinst', 'postinst'].some((s) => {
      const text = scriptOf(r, s)?.toString('utf8') ?? '';
      return text.includes(path) || text.includes(name);
    }))
    .map((r) => r.package);
}

/** The package a syslog tag names (logger -t mariadb-server.postinst), else the tag. */
function taggedPackage(tag: string): string {
  return tag.replace(/\.(preinst|postinst|prerm|postrm|config)$/, '') || 'syslog';
}

/** What scripts logged, by tag, for the transaction log. */
export function syslogSections(messages: SyslogMessage[]): PackageOutput[] {
  const byTag = new Map<string, string[]>();
  for (const m of messages) byTag.set(m.tag, [...(byTag.get(m.tag) ?? []), ...m.text.split('\n')]);
  return [...byTag].map(([tag, lines]) => ({ package: taggedPackage(tag), step: 'syslog', lines }));
}

const SEVERITY = ['emerg', 'alert', 'crit', 'err'];

/**
 * One line for the user per tag that logged at err or worse: a script that
 * kept going (its exit status hidden) after something failed, as far as the
 * log tells.
 */
export function syslogErrors(messages: SyslogMessage[]): string[] {
  const errors = messages.filter((m) => m.severity <= 3 && m.text !== '');
  const tags = [...new Set(errors.map((m) => m.tag))];
  return tags.map((tag) => {
    const mine = errors.filter((m) => m.tag === tag);
    const last = mine[mine.length - 1]!;
    const text = last.text.split('\n').filter((l) => l.trim() !== '').pop()!.trim();
    const lines = mine.length === 1 ? 'a line' : `${mine.length} lines`;
    return `${tag || 'A maintainer script'} logged ${lines} at priority err or worse to syslog, the last (${SEVERITY[last.severity]}): ${text.length > 200 ? `${text.slice(0, 200)}...` : text} (deblayer history --verbose shows them)`;
  });
}
