// What a deployment changes from the booted one, in packages: apply-live
// makes only additions live. A package that changes or goes is in use by
// what runs now (its files open, its libraries mapped, its daemon started
// from the old version), and a new base changes everything: those wait for
// the reboot, as rpm-ostree apply-live refuses them without
// --allow-replacement.

import type { DeploymentStatus } from '../deploy/status.js';
import { short } from '../exec/ostree.js';

export type LiveSide = Pick<DeploymentStatus, 'checksum' | 'baseCommit' | 'layeredPackages' | 'removedBasePackages' | 'replacedBasePackages'>;

export interface LiveAdditions {
  /** NAME=VERSION of the packages the target has and the booted deployment has not: layered, or base packages an override reset brings back. */
  added: string[];
  /** Why the target is not only additions (empty when it is). */
  refusals: string[];
}

function byName(entries: string[]): Map<string, string> {
  return new Map(entries.map((e) => {
    const eq = e.indexOf('=');
    return [e.slice(0, eq), e.slice(eq + 1)];
  }));
}

export function liveAdditions(booted: LiveSide, target: LiveSide): LiveAdditions {
  const refusals: string[] = [];
  if (booted.baseCommit !== target.baseCommit) refusals.push(`its base is another commit (${short(booted.baseCommit)} → ${short(target.baseCommit)})`);
  const before = byName(booted.layeredPackages);
  const after = byName(target.layeredPackages);
  for (const [name, version] of before) {
    const next = after.get(name);
    if (next === undefined) refusals.push(`it removes ${name} ${version}`);
    else if (next !== version) refusals.push(`it changes ${name} ${version} → ${next}, a package in use`);
  }
  // A base package that override reset brings back only adds its files; one that goes is in use.
  const removed = target.removedBasePackages.filter((p) => !booted.removedBasePackages.includes(p));
  if (removed.length > 0) refusals.push(`it removes base packages (override remove ${removed.map((p) => p.slice(0, p.indexOf('='))).join(' ')})`);
  const restored = booted.removedBasePackages.filter((p) => !target.removedBasePackages.includes(p));
  const sameList = (a: string[], b: string[]) => a.length === b.length && a.every((x) => b.includes(x));
  const replaced = (s: LiveSide) => s.replacedBasePackages.map((r) => `${r.name}=${r.version}`);
  if (!sameList(replaced(booted), replaced(target))) refusals.push('it replaces other base packages, or brings their own versions back (override replace, override reset)');
  const added = [...target.layeredPackages.filter((p) => !before.has(p.slice(0, p.indexOf('=')))), ...restored];
  return { added, refusals };
}
