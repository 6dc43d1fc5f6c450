// Resolution with apt itself, against the base's held status: libapt through
// python3-apt marks plain requests (src/exec/apt.ts says how, and why it is
// faster), and `apt-get --simulate install` answers everything else: local
// files, virtual names, and any request apt cannot satisfy alone, so that apt's
// own messages explain failures. Either way apt's AutoInstall debug output says
// why each dependency is there. deblayer has no resolver of its own; it reads
// apt's plan into a Plan and turns apt's failures into one line that names the
// package at fault.

import { statSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { DeblayerError, EXIT, UsageError } from '../errors.js';
import { aptCache, aptGet, aptMessages, type LibaptPackage, type LibaptRemoval, type LibaptRequest } from '../exec/apt.js';
import { openDeb, readDebControl } from '../deb/index.js';
import type { StatusEntry } from '../base/dpkg-status.js';
import { parseParagraphs } from '../vocabulary/deb822.js';
import { isPackageSpec, specName, specVersion } from '../vocabulary/packages.js';
import { replacedNames, type BaseContents } from '../base/select.js';
import type { AptEnvironment } from './environment.js';
import type { Plan, PlannedPackage } from './plan.js';

export interface Request {
  /** Package names (optionally NAME=VERSION or NAME:ARCH) to add. */
  install: string[];
  /** Local .deb files to add. */
  localFiles: string[];
  /** Names already layered that stay requested (empty on a plain base). */
  layered?: string[];
  /** Names to drop from the layered set. */
  drop?: string[];
  /** Accept requests for packages the base already has (--allow-inactive). */
  allowInactive?: boolean;
}

/** A request apt cannot satisfy without changing a package of the base. */
export class BaseConflictError extends DeblayerError {
  constructor(
    readonly basePackage: string,
    readonly neededBy: string,
    message: string,
    detail?: string,
  ) {
    super(message, { exitCode: EXIT.baseTooOld, ...(detail === undefined ? {} : { detail }) });
  }
}

export class ResolveError extends DeblayerError {
  constructor(message: string, options: { detail?: string } = {}) {
    super(message, { ...options, exitCode: EXIT.unresolvable });
  }
}

export interface LocalDeb {
  path: string;
  name: string;
  version: string;
  architecture: string;
  installedSize: number;
  size: number;
}

export interface ResolveOptions {
  /**
   * 'apt-get' always asks `apt-get --simulate`; by default libapt marks plain
   * requests itself and apt-get answers the rest (see openLibapt).
   */
  resolver?: 'auto' | 'apt-get';
}

export async function resolvePlan(contents: BaseContents, env: AptEnvironment, request: Request, options: ResolveOptions = {}): Promise<Plan> {
  const installed = baseInstalled(contents);
  const { wanted, inactive, locals } = await readRequest(request, installed);
  const requestedNames = [...wanted.map(specName), ...locals.map((l) => l.name)];
  const plan = newPlan(contents, requestedNames, inactive);
  if (wanted.length === 0 && locals.length === 0) return plan;
  const native = contents.architectures[0]!;
  const fromLibapt = locals.length === 0 && options.resolver !== 'apt-get' ? await resolveWithLibapt(env, { install: wanted }, native) : undefined;
  plan.resolver = fromLibapt ? 'libapt' : 'apt-get';
  const args = ['install', ...wanted, ...locals.map((l) => l.path)];
  const resolution = fromLibapt ?? (await resolveWithAptGet(env, args, { installed, requestedNames, native, localNames: locals.map((l) => l.name), replacing: replacedNames(contents) }));
  const steps = resolution.steps;
  if (resolution.notUpgraded !== undefined) plan.notUpgraded = resolution.notUpgraded;
  const localByName = new Map(locals.map((l) => [l.name, l]));
  for (const s of steps) {
    const p = plannedPackage(s, localByName.get(s.name), requestedNames.includes(s.name));
    plan.packages.push(p);
    plan.installedSize += p.installedSize;
    if (p.source.kind !== 'local') plan.downloadSize += p.downloadSize;
  }
  return plan;
}

/** The base's installed packages by name: what a layer may not change. */
export function baseInstalled(contents: BaseContents): Map<string, StatusEntry> {
  const installed = new Map<string, StatusEntry>();
  for (const p of contents.packages) if (p.state === 'installed') installed.set(p.package, p);
  return installed;
}

export function newPlan(contents: BaseContents, requested: string[], inactive: string[]): Plan {
  return { base: { label: contents.base.label, commit: contents.base.commit }, requested, inactive, packages: [], downloadSize: 0, installedSize: 0 };
}

/**
 * A request checked against the base: the drops must be layered, the specs
 * well formed, and neither the specs nor the local files may change a
 * package of the base. WANTED is the layered set with the additions.
 */
export async function readRequest(request: Request, installed: Map<string, StatusEntry>): Promise<{ wanted: string[]; inactive: string[]; locals: LocalDeb[] }> {
  const layered = new Set(request.layered ?? []);
  for (const name of request.drop ?? []) {
    if (!layered.delete(name)) throw new ResolveError(`package ${name} is not layered: there is nothing to remove`);
  }
  for (const spec of request.install) {
    if (!isPackageSpec(spec)) throw new UsageError(`'${spec}' is not a package name (NAME, NAME=VERSION or NAME:ARCH), nor a path to a .deb file`);
  }
  const locals = await Promise.all(request.localFiles.map(readLocalDeb));
  const { wanted, inactive } = setAgainstBase([...layered, ...request.install], installed, request.allowInactive ?? false);
  for (const local of locals) {
    const inBase = installed.get(local.name);
    if (inBase) {
      throw new BaseConflictError(
        local.name,
        local.path,
        `${local.path}: package ${local.name} ${local.version} would replace the base's ${local.name} ${inBase.version}: a layer cannot change base packages (deblayer override replace ${local.path} does)`,
      );
    }
  }
  return { wanted, inactive, locals };
}

/**
 * Requests the base already satisfies are inactive: nothing to add, apt is not
 * asked (and only with --allow-inactive); one that names another version of a
 * base package is refused.
 */
function setAgainstBase(specs: string[], installed: Map<string, StatusEntry>, allowInactive: boolean): { wanted: string[]; inactive: string[] } {
  const inactive: string[] = [];
  const wanted: string[] = [];
  for (const spec of specs) {
    const name = specName(spec);
    const inBase = installed.get(name);
    const version = specVersion(spec);
    if (inBase && version !== undefined && version !== inBase.version) {
      throw new BaseConflictError(name, spec, `${spec} would replace the base's ${name} ${inBase.version}: a layer cannot upgrade or downgrade base packages (deblayer override replace ${spec} does)`);
    }
    if (inBase) {
      if (!allowInactive) {
        throw new ResolveError(
          `package ${name} is already in the base (${inBase.version}): nothing to layer (--allow-inactive requests it anyway, for when a future base drops it)`,
        );
      }
      inactive.push(name);
    } else if (!wanted.includes(spec)) wanted.push(spec);
  }
  return { wanted, inactive };
}

export function plannedPackage(s: Resolved, local: LocalDeb | undefined, requested: boolean): PlannedPackage {
  return {
    name: s.name,
    version: s.version,
    architecture: s.architecture,
    origin: local ? 'local file' : s.origin,
    downloadSize: local ? local.size : s.size,
    installedSize: local ? local.installedSize * 1024 : s.installedSize,
    reason: requested ? 'requested' : 'dependency',
    ...(!requested && s.why ? { requiredBy: s.why.by, relation: s.why.relation } : {}),
    source: local ? { kind: 'local', path: local.path } : { kind: 'archive', filename: s.filename, ...(s.sha256 ? { sha256: s.sha256 } : {}) },
    ...(s.current !== undefined ? { current: s.current } : {}),
  };
}

/** One package of a plan as a resolver reports it (libapt's fields), before the plan's own fields. */
export interface Resolved extends Omit<LibaptPackage, 'sha256' | 'current'> {
  sha256?: string;
  why?: { by: string; relation: string };
  /** The version installed now: a layered package the plan upgrades or downgrades. */
  current?: string;
}

/** What a resolver planned: packages to install (or move), and layered ones to remove. */
export interface Resolution {
  steps: Resolved[];
  removed: LibaptRemoval[];
  /** apt's "N not upgraded": installed packages (the base's included) with a newer candidate that stay. */
  notUpgraded?: number;
}

export async function resolveWithLibapt(env: AptEnvironment, request: LibaptRequest, native: string): Promise<Resolution | undefined> {
  const r = await env.libapt().resolve(request);
  if (r.kind === 'fallback') return undefined;
  const reasons = parseAutoInstall(r.autoInstall, native);
  const steps = r.packages.map(({ sha256, current, ...p }): Resolved => {
    const why = reasons.get(p.name);
    return { ...p, ...(sha256 !== null ? { sha256 } : {}), ...(current !== null ? { current } : {}), ...(why ? { why } : {}) };
  });
  return { steps, removed: r.removed, notUpgraded: r.notUpgraded };
}

export interface SimulationContext {
  /** The base's packages, which a plan may not change. */
  installed: Map<string, StatusEntry>;
  requestedNames: string[];
  native: string;
  /** The layered packages by name, which a plan may upgrade or remove. */
  layered?: Map<string, StatusEntry>;
  /** Base packages being replaced (override replace), which the plan moves to their replacement. */
  replacing?: Set<string>;
  /** Packages of local files: apt's lists know nothing of them. */
  localNames?: string[];
  /** `-o` options before the command. */
  aptOptions?: string[];
}

/**
 * `apt-get --simulate ARGS` (install or autoremove) read into a Resolution.
 * Changing a package of the base is refused; a layered package (LAYERED, by
 * name) may be upgraded or removed.
 */
export async function resolveWithAptGet(env: AptEnvironment, args: string[], ctx: SimulationContext): Promise<Resolution> {
  const { installed, requestedNames, native, layered = new Map<string, StatusEntry>() } = ctx;
  const r = await aptGet(env.invocation, [...(ctx.aptOptions ?? []), '--simulate', '-o', 'Debug::pkgDepCache::AutoInstall=1', ...args], 'cannot resolve the request', { allowFailure: true });
  const detail = `command: ${r.command}\n${r.stdout}${r.stderr}`;
  if (r.exitCode !== 0) throw explainFailure(r.stdout, r.stderr, installed, detail);

  const reasons = parseAutoInstall(r.stderr, native);
  const steps = parseSimulation(r.stdout);
  for (const s of steps) {
    if ((s.action === 'Remv' || s.oldVersion !== undefined) && !layered.has(s.name) && !(s.action === 'Inst' && ctx.replacing?.has(s.name))) {
      const by = requestedNames.join(', ');
      throw new BaseConflictError(
        s.name,
        by,
        `installing ${by} would ${s.action === 'Remv' ? 'remove' : 'upgrade'} the base package ${s.name} (${s.oldVersion ?? s.version}): a layer cannot change base packages; upgrade the base first`,
        detail,
      );
    }
  }
  const removed = steps.filter((s) => s.action === 'Remv').map((s): LibaptRemoval => {
    const e = layered.get(s.name)!;
    return { name: s.name, version: e.version, architecture: e.architecture, installedSize: Number(e.fields['Installed-Size'] ?? 0) };
  });
  const inst = steps.filter((s) => s.action === 'Inst');
  const fields = await archiveFields(env, inst.filter((s) => !ctx.localNames?.includes(s.name)));
  const notUpgraded = notUpgradedCount(r.stdout);
  return {
    steps: inst.map((s) => resolvedStep(s, fields.get(`${s.name}=${s.version}`), reasons.get(s.name))),
    removed,
    ...(notUpgraded !== undefined ? { notUpgraded } : {}),
  };
}

/** The N of apt-get's summary line "... and N not upgraded." (in the C locale apt runs in). */
export function notUpgradedCount(stdout: string): number | undefined {
  const m = /^\d+ upgraded, \d+ newly installed, .* and (\d+) not upgraded\.$/m.exec(stdout);
  return m ? Number(m[1]) : undefined;
}

function resolvedStep(s: SimStep, f: Record<string, string> | undefined, why: { by: string; relation: string } | undefined): Resolved {
  return {
    name: s.name,
    version: s.version,
    architecture: s.architecture,
    origin: s.origin,
    size: Number(f?.Size ?? 0),
    installedSize: Number(f?.['Installed-Size'] ?? 0) * 1024,
    filename: f?.Filename ?? '',
    ...(f?.SHA256 ? { sha256: f.SHA256 } : {}),
    ...(s.oldVersion !== undefined ? { current: s.oldVersion } : {}),
    ...(why ? { why } : {}),
  };
}

export async function readLocalDeb(file: string): Promise<LocalDeb> {
  const path = resolvePath(file);
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    throw new ResolveError(`${file}: no such file`);
  }
  const deb = openDeb(path);
  const control = await readDebControl(deb);
  return {
    path,
    name: control.fields.package,
    version: control.fields.version,
    architecture: control.fields.architecture,
    installedSize: control.fields.installedSize ?? 0,
    size,
  };
}

interface SimStep {
  action: 'Inst' | 'Remv';
  name: string;
  oldVersion?: string;
  version: string;
  origin: string;
  architecture: string;
}

// "Inst htop (3.2.2-2 Debian:12.12/oldstable [amd64])", "Inst libc6 [2.36-9] (2.38-1 ... [amd64])",
// "Remv foo [1.0]".
export function parseSimulation(stdout: string): SimStep[] {
  const steps: SimStep[] = [];
  for (const line of stdout.split('\n')) {
    const inst = /^Inst (\S+)(?: \[([^\]]*)\])? \((\S+) (.*?)\s*\[([^\]]+)\]\)/.exec(line);
    if (inst) {
      const [, name, old, version, origin, arch] = inst;
      steps.push({
        action: 'Inst',
        name: name!.replace(/:.*$/, ''),
        ...(old !== undefined ? { oldVersion: old } : {}),
        version: version!,
        origin: origin!.trim(),
        architecture: arch!,
      });
      continue;
    }
    const remv = /^Remv (\S+)(?: \[([^\]]*)\])?/.exec(line);
    if (remv) steps.push({ action: 'Remv', name: remv[1]!.replace(/:.*$/, ''), version: remv[2] ?? '', origin: '', architecture: '' });
  }
  return steps;
}

// "  Installing libnl-3-200:amd64 as Depends of htop:amd64" (Debug::pkgDepCache::AutoInstall).
export function parseAutoInstall(stderr: string, native: string): Map<string, { by: string; relation: string }> {
  const strip = (n: string) => n.replace(new RegExp(`:(${native}|all)$`), '');
  const reasons = new Map<string, { by: string; relation: string }>();
  for (const m of stderr.matchAll(/^\s*Installing (\S+) as (\S+) of (\S+)/gm)) {
    const name = strip(m[1]!).replace(/:.*$/, '');
    if (!reasons.has(name)) reasons.set(name, { relation: m[2]!, by: strip(m[3]!).replace(/:.*$/, '') });
  }
  return reasons;
}

async function archiveFields(env: AptEnvironment, steps: SimStep[]): Promise<Map<string, Record<string, string>>> {
  const out = new Map<string, Record<string, string>>();
  if (steps.length === 0) return out;
  const r = await aptCache(env.invocation, ['show', ...steps.map((s) => `${s.name}:${s.architecture}=${s.version}`)], 'cannot read package sizes');
  for (const p of parseParagraphs(r.stdout)) {
    const key = `${p.Package}=${p.Version}`;
    if (p.Package && !out.has(key)) out.set(key, p);
  }
  return out;
}

interface Unmet {
  package: string;
  relation: string;
  target: string;
  why: string;
}

// " curl : Depends: libcurl4 (= 7.88.1-10+deb12u15) but 7.88.1-10+deb12u14 is to be installed"
export function parseUnmet(text: string): Unmet[] {
  const out: Unmet[] = [];
  const start = text.indexOf('The following packages have unmet dependencies:');
  if (start < 0) return out;
  let current = '';
  for (const line of text.slice(start).split('\n').slice(1)) {
    if (line.startsWith('E: ') || line.trim() === '') break;
    const m = /^\s*(?:(\S+) : )?(Depends|PreDepends|Pre-Depends|Conflicts|Breaks|Recommends): (.+?)(?: but (.+?))?\s*$/.exec(line);
    if (!m) continue;
    if (m[1]) current = m[1];
    out.push({ package: current, relation: m[2]!, target: m[3]!, why: m[4] ?? '' });
  }
  return out;
}

export function explainFailure(stdout: string, stderr: string, installed: Map<string, StatusEntry>, detail: string): DeblayerError {
  const all = `${stdout}\n${stderr}`;
  const errors = aptMessages(stderr, 'E');
  const unknown = errors.map((e) => /^Unable to locate package (.+)$/.exec(e)?.[1]).filter((n): n is string => !!n);
  if (unknown.length > 0) {
    return new ResolveError(
      `unknown package${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}: not in any source of this base (deblayer refresh-md updates the lists)`,
      { detail },
    );
  }
  const version = errors.map((e) => /^Version '(.+)' for '(.+)' was not found$/.exec(e)).find((m) => m !== null);
  if (version) return new ResolveError(`version ${version[1]} of ${version[2]} is not in the sources of this base`, { detail });
  const virtual = /Package (\S+) is a virtual package provided by:\n((?: {2}\S.*\n?)+)/.exec(all);
  if (virtual) {
    const providers = virtual[2]!
      .split('\n')
      .map((l) => l.trim().split(/\s+/)[0])
      .filter((n): n is string => !!n);
    return new ResolveError(`${virtual[1]} is a virtual package provided by ${providers.join(', ')}: request one of them`, { detail });
  }
  const unavailable = /Package (\S+) is not available, but is referred to by another package/.exec(all);
  if (unavailable) {
    return new ResolveError(`package ${unavailable[1]} has no installable version in the sources of this base (it is only referred to by other packages)`, { detail });
  }
  const unmet = parseUnmet(stdout);
  for (const u of unmet) {
    const target = u.target.split(/[\s(]/)[0]!.replace(/:.*$/, '');
    const base = installed.get(target);
    const m = /^(\S+) is (?:to be )?installed$/.exec(u.why);
    if (base && (m || u.relation === 'Conflicts' || u.relation === 'Breaks')) {
      const what =
        u.relation === 'Conflicts' || u.relation === 'Breaks'
          ? `${u.package} ${u.relation === 'Conflicts' ? 'conflicts with' : 'breaks'} ${u.target}, and the base has ${target} ${base.version}`
          : `${u.package} needs ${u.target}, but the base has ${target} ${base.version}`;
      return new BaseConflictError(target, u.package, `${what}: a layer cannot change base packages; upgrade the base first`, detail);
    }
  }
  if (unmet.length > 0) {
    const u = unmet[0]!;
    return new ResolveError(`cannot satisfy ${u.package}: ${u.relation} ${u.target}${u.why ? `, but ${u.why}` : ''}`, { detail });
  }
  return new ResolveError(`apt cannot resolve the request: ${errors[0] ?? 'no reason given'}`, { detail });
}
