// Resolution against a layered state (src/apt/current-state.ts), as apt does on
// a mutable system: only the change is asked of apt (`apt-get install NEW`,
// or for dropped requests `apt-mark auto` and `apt-get autoremove`), so every
// layered package keeps its version unless the change needs another. The plan
// is still the whole layered set after the change: the kept packages at their
// versions, then what apt adds or moves.

import { unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StatusEntry } from '../base/dpkg-status.js';
import { replacedNames, type BaseContents } from '../base/select.js';
import type { LibaptRemoval } from '../exec/apt.js';
import { specName } from '../vocabulary/packages.js';
import { installedBytes, stateKey, type CurrentState } from './current-state.js';
import type { AptEnvironment } from './environment.js';
import type { Plan, PlannedPackage } from './plan.js';
import {
  baseInstalled,
  newPlan,
  plannedPackage,
  readRequest,
  resolveWithAptGet,
  resolveWithLibapt,
  ResolveError,
  type LocalDeb,
  type Request,
  type Resolution,
  type ResolveOptions,
} from './resolve.js';

/** What apt is asked: the new requests, the new local files, the dropped requests. */
interface Ask {
  install: string[];
  locals: LocalDeb[];
  drop: string[];
}

export async function resolveAgainstState(
  contents: BaseContents,
  env: AptEnvironment,
  state: CurrentState,
  request: Request,
  options: ResolveOptions = {},
): Promise<Plan> {
  const installed = baseInstalled(contents);
  const { wanted, inactive, locals } = await readRequest(request, installed);
  const requestedNames = [...wanted.map(specName), ...locals.map((l) => l.name)];
  const layeredNow = new Set(state.packages.map((p) => `${p.package}=${p.version}:${p.architecture}`));
  const ask: Ask = {
    install: request.install.filter((s) => wanted.includes(s)),
    locals: locals.filter((l) => !layeredNow.has(`${l.name}=${l.version}:${l.architecture}`)),
    // A dropped request that layers nothing (an inactive one) has nothing for apt to remove.
    drop: (request.drop ?? []).filter((n) => state.packages.some((p) => p.package === n)),
  };
  const plan = newPlan(contents, requestedNames, inactive);
  let resolution: Resolution = { steps: [], removed: [] };
  if (ask.install.length + ask.locals.length + ask.drop.length > 0) {
    const native = contents.architectures[0]!;
    const fromLibapt =
      ask.locals.length === 0 && options.resolver !== 'apt-get'
        ? await resolveWithLibapt(env, { install: ask.install, auto: ask.drop, autoremove: ask.drop.length > 0 }, native)
        : undefined;
    plan.resolver = fromLibapt ? 'libapt' : 'apt-get';
    resolution = fromLibapt ?? (await simulate(env, ask, state, { installed, requestedNames, native, replacing: replacedNames(contents) }));
  }
  checkRemovals(resolution.removed, requestedNames, ask);
  return assemble(plan, state, resolution, locals);
}

/** apt-get's answer to the same question: `install NEW...`, or `autoremove` with the dropped requests marked automatically installed. */
async function simulate(
  env: AptEnvironment,
  ask: Ask,
  state: CurrentState,
  ctx: { installed: Map<string, StatusEntry>; requestedNames: string[]; native: string; replacing: Set<string> },
): Promise<Resolution> {
  const layered = new Map(state.packages.map((p) => [p.package, p]));
  const sim = { ...ctx, layered, localNames: ask.locals.map((l) => l.name) };
  if (ask.drop.length === 0) return resolveWithAptGet(env, ['install', ...ask.install, ...ask.locals.map((l) => l.path)], sim);
  if (ask.install.length + ask.locals.length > 0) throw new ResolveError('a change that both adds and drops requests is resolved from the base, not against the layered state');
  // apt-get has no option to mark packages automatically installed: a copy of extended_states does.
  const stateDir = env.invocation.options.find(([k]) => k === 'Dir::State')![1];
  const file = join(stateDir, `extended_states.${process.pid}`);
  const auto = state.packages.filter((p) => !state.requested.includes(p.package) || ask.drop.includes(p.package));
  writeFileSync(file, auto.map((p) => `Package: ${p.package}\nArchitecture: ${p.architecture}\nAuto-Installed: 1\n\n`).join(''));
  try {
    return await resolveWithAptGet(env, ['autoremove'], { ...sim, aptOptions: ['-o', `Dir::State::extended_states=${file}`] });
  } finally {
    unlinkSync(file);
  }
}

/** apt removes a layered package for a new one that conflicts with it: fine for a dependency, not for a request. */
function checkRemovals(removed: LibaptRemoval[], requestedNames: string[], ask: Ask): void {
  const requested = removed.filter((r) => requestedNames.includes(r.name));
  if (requested.length === 0) return;
  const by = [...ask.install.map(specName), ...ask.locals.map((l) => l.name)].join(', ');
  throw new ResolveError(
    `installing ${by} would remove the layered package${requested.length > 1 ? 's' : ''} ${requested.map((r) => `${r.name} ${r.version}`).join(', ')}, which ${requested.length > 1 ? 'are' : 'is'} requested: uninstall ${requested.length > 1 ? 'them' : 'it'} first`,
  );
}

/** The whole layered set: the kept packages in the state's order, then what apt adds or moves, in apt's. */
function assemble(plan: Plan, state: CurrentState, resolution: Resolution, locals: LocalDeb[]): Plan {
  const moved = new Set([...resolution.steps, ...resolution.removed].map(stateKey));
  const localByName = new Map(locals.map((l) => [l.name, l]));
  for (const e of state.packages) {
    if (!moved.has(stateKey({ name: e.package, architecture: e.architecture }))) plan.packages.push(keptPackage(e, plan.requested, localByName.get(e.package)));
  }
  for (const s of resolution.steps) {
    const p = plannedPackage(s, localByName.get(s.name), plan.requested.includes(s.name));
    plan.packages.push(p);
    if (p.source.kind !== 'local') plan.downloadSize += p.downloadSize;
  }
  plan.installedSize = plan.packages.reduce((sum, p) => sum + p.installedSize, 0);
  plan.removed = resolution.removed.map((r) => ({ ...r, installedSize: r.installedSize * 1024 }));
  plan.previousInstalledSize = state.packages.reduce((sum, e) => sum + installedBytes(e), 0);
  if (resolution.notUpgraded !== undefined) plan.notUpgraded = resolution.notUpgraded;
  return plan;
}

/**
 * A layered package the change keeps. Its .deb is in the package cache (or
 * the local-package store); its archive fields are looked up only if the
 * cache lost it (src/pipeline/fetch.ts).
 */
function keptPackage(e: StatusEntry, requested: string[], local: LocalDeb | undefined): PlannedPackage {
  return {
    name: e.package,
    version: e.version,
    architecture: e.architecture,
    origin: local ? 'local file' : 'layered',
    downloadSize: 0,
    installedSize: installedBytes(e),
    reason: requested.includes(e.package) ? 'requested' : 'dependency',
    source: local ? { kind: 'local', path: local.path } : { kind: 'archive', filename: '' },
    current: e.version,
  };
}

/**
 * A plan resolved from the base (upgrade, rebase, apply) told against the
 * state it replaces: each package's current version, the packages it drops,
 * and "Need to get" only for what the state does not have.
 */
export function againstState(plan: Plan, state: CurrentState | undefined): Plan {
  if (!state) return plan;
  const now = new Map(state.packages.map((e) => [stateKey({ name: e.package, architecture: e.architecture }), e]));
  const after = new Set(plan.packages.map(stateKey));
  const packages = plan.packages.map((p) => {
    const e = now.get(stateKey(p));
    return e ? { ...p, current: e.version } : p;
  });
  const removed = state.packages
    .filter((e) => !after.has(stateKey({ name: e.package, architecture: e.architecture })))
    .map((e) => ({ name: e.package, version: e.version, architecture: e.architecture, installedSize: installedBytes(e) }));
  const downloadSize = packages.filter((p) => p.current !== p.version && p.source.kind !== 'local').reduce((sum, p) => sum + p.downloadSize, 0);
  const previousInstalledSize = state.packages.reduce((sum, e) => sum + installedBytes(e), 0);
  return { ...plan, packages, removed, downloadSize, previousInstalledSize };
}
