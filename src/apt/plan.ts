// The typed result of resolution: which packages a layer adds to a base, and
// why. It is data, rendered by the CLI (like apt's own summary) or as JSON, and
// later executed by the layering engine: --dry-run and a real run share it.
// A plan is always the whole layered set after the change; against a
// deployment that layers packages already, each package also says how it
// relates to what is layered now (new, kept, upgraded), and the removed ones
// are listed, so that the summary says what changes as apt's does.

import { compareVersions } from '../vocabulary/packages.js';

export type PackageSource =
  | { kind: 'archive'; filename: string; sha256?: string }
  | { kind: 'local'; path: string };

export interface PlannedPackage {
  name: string;
  version: string;
  architecture: string;
  /** apt's origin ("Debian:12.12/oldstable"), or "local file". */
  origin: string;
  /** Size of the .deb, in bytes. */
  downloadSize: number;
  /** Installed-Size, in bytes (the control field is in KiB). */
  installedSize: number;
  reason: 'requested' | 'dependency';
  /** For a dependency: the package that pulled it in, and how. */
  requiredBy?: string;
  relation?: string;
  source: PackageSource;
  /** The version layered now: absent for a package the change adds, `version` for one it keeps. */
  current?: string;
}

/** A package layered now that the change removes. */
export interface RemovedPackage {
  name: string;
  version: string;
  architecture: string;
  /** In bytes. */
  installedSize: number;
}

export interface Plan {
  base: { label: string; commit: string };
  /** Package names asked for (including local files' package names). */
  requested: string[];
  /** Requested, but the base already has them (--allow-inactive): nothing to add now. */
  inactive: string[];
  /** Dependencies before the packages that need them (apt's installation order when apt-get resolved). */
  packages: PlannedPackage[];
  downloadSize: number;
  installedSize: number;
  /** Which of apt's interfaces planned the packages (none when there was nothing to ask). */
  resolver?: 'libapt' | 'apt-get';
  /** Layered now, and not after the change. */
  removed?: RemovedPackage[];
  /** Installed-Size of everything layered now, in bytes (none on a plain base). */
  previousInstalledSize?: number;
  /**
   * apt's "N not upgraded": installed packages with a newer version in the
   * lists that the plan leaves as they are (layered ones, and the base's,
   * which only a new base moves). None when apt was not asked.
   */
  notUpgraded?: number;
}

/** A plan's packages by how they relate to what is layered now. */
export interface PlanChanges {
  added: PlannedPackage[];
  upgraded: PlannedPackage[];
  downgraded: PlannedPackage[];
  kept: PlannedPackage[];
  removed: RemovedPackage[];
}

export function planChanges(plan: Plan): PlanChanges {
  const c: PlanChanges = { added: [], upgraded: [], downgraded: [], kept: [], removed: plan.removed ?? [] };
  for (const p of plan.packages) {
    if (p.current === undefined) c.added.push(p);
    else if (p.current === p.version) c.kept.push(p);
    else if (compareVersions(p.version, p.current) > 0) c.upgraded.push(p);
    else c.downgraded.push(p);
  }
  return c;
}

/** True when the plan changes nothing of what is layered now (the requests may still change). */
export function changesNothing(plan: Plan): boolean {
  const c = planChanges(plan);
  return c.added.length + c.upgraded.length + c.downgraded.length + c.removed.length === 0;
}

/** The plan of a transaction that changes nothing (already up to date). */
export function emptyPlan(label: string, commit: string): Plan {
  return { base: { label, commit }, requested: [], inactive: [], packages: [], downloadSize: 0, installedSize: 0 };
}

/** The .deb file name apt stores in its archive directory (':' of an epoch escaped). */
export function archiveFileName(p: { name: string; version: string; architecture: string }): string {
  return `${p.name}_${p.version.replace(/:/g, '%3a')}_${p.architecture}.deb`;
}

/** apt's SizeToStr (apt-pkg/contrib/strutl.cc), as used in "Need to get ... of archives". */
export function aptSize(bytes: number): string {
  const units = ['', 'k', 'M', 'G', 'T', 'P', 'E', 'Z'];
  let size = bytes;
  for (let i = 0; i < units.length; i++) {
    if (size < 100 && i !== 0) return `${size.toFixed(1)} ${units[i]}B`;
    if (size < 10000) return `${size.toFixed(0)} ${units[i]}B`;
    size /= 1000;
  }
  return `${size.toFixed(0)} YB`;
}

/** apt's summary of a plan, and a line per package it adds or moves saying why it is there. */
export function renderPlan(plan: Plan): string[] {
  const out: string[] = [];
  if (plan.inactive.length > 0) {
    out.push('The following requested packages are already in the base (inactive requests):');
    out.push(...wrapNames(plan.inactive));
  }
  const c = planChanges(plan);
  if (plan.packages.length === 0 && c.removed.length === 0) {
    out.push('Nothing to layer: the base already has everything requested.');
    return out;
  }
  const changed = plan.packages.filter((p) => p.current !== p.version);
  const dependencies = changed.filter((p) => p.reason === 'dependency');
  // In apt-get's order of sections (apt-private/private-install.cc).
  if (dependencies.length > 0) out.push('The following additional packages will be installed:', ...wrapNames(dependencies.map((p) => p.name)));
  if (c.removed.length > 0) out.push('The following packages will be REMOVED:', ...wrapNames(c.removed.map((p) => p.name).sort()));
  if (c.added.length > 0) out.push('The following NEW packages will be installed:', ...wrapNames(c.added.map((p) => p.name).sort()));
  if (c.upgraded.length > 0) out.push('The following packages will be upgraded:', ...c.upgraded.map(versionChange));
  if (c.downgraded.length > 0) out.push('The following packages will be DOWNGRADED:', ...c.downgraded.map(versionChange));
  const downgraded = c.downgraded.length > 0 ? `${c.downgraded.length} downgraded, ` : '';
  out.push(`${c.upgraded.length} upgraded, ${c.added.length} newly installed, ${downgraded}${c.removed.length} to remove and ${plan.notUpgraded ?? 0} not upgraded.`);
  if (changed.length > 0) out.push(`Need to get ${aptSize(plan.downloadSize)} of archives.`);
  const delta = plan.installedSize - (plan.previousInstalledSize ?? 0);
  out.push(
    delta >= 0
      ? `After this operation, ${aptSize(delta)} of additional disk space will be used.`
      : `After this operation, ${aptSize(-delta)} disk space will be freed.`,
  );
  if (changed.length === 0) return out;
  const w = Math.max(...changed.map((p) => p.name.length));
  const v = Math.max(...changed.map((p) => p.version.length));
  for (const p of changed) {
    const why = p.reason === 'requested' ? 'requested' : `${p.relation ?? 'dependency'} of ${p.requiredBy ?? '?'}`;
    const was = p.current !== undefined ? `, layered now: ${p.current}` : '';
    out.push(`  ${p.name.padEnd(w)}  ${p.version.padEnd(v)}  ${p.architecture.padEnd(5)} ${aptSize(p.downloadSize).padStart(8)}  ${p.origin}  (${why}${was})`);
  }
  return out;
}

/** "  fxa (1.0 -> 2.0)": a layered package that moves to another version. */
function versionChange(p: PlannedPackage): string {
  return `  ${p.name} (${p.current} -> ${p.version})`;
}

function wrapNames(names: string[]): string[] {
  // apt's ShowList: two-space indent, wrapped before 80 columns.
  const lines: string[] = [];
  let line = ' ';
  for (const n of names) {
    if (line.length + 1 + n.length > 79 && line.trim() !== '') {
      lines.push(line);
      line = ' ';
    }
    line += ` ${n}`;
  }
  if (line.trim() !== '') lines.push(line);
  return lines;
}

