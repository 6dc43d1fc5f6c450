// The typed result of resolution: which packages a layer adds to a base, and
// why. It is data, rendered by the CLI (like apt's own summary) or as JSON, and
// later executed by the layering engine: --dry-run and a real run share it.

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

/** apt's summary of a plan, and a line per package saying why it is there. */
export function renderPlan(plan: Plan): string[] {
  const out: string[] = [];
  if (plan.inactive.length > 0) {
    out.push('The following requested packages are already in the base (inactive requests):');
    out.push(...wrapNames(plan.inactive));
  }
  if (plan.packages.length === 0) {
    out.push('Nothing to layer: the base already has everything requested.');
    return out;
  }
  const dependencies = plan.packages.filter((p) => p.reason === 'dependency');
  if (dependencies.length > 0) {
    out.push('The following additional packages will be installed:');
    out.push(...wrapNames(dependencies.map((p) => p.name)));
  }
  out.push('The following NEW packages will be installed:');
  out.push(...wrapNames(plan.packages.map((p) => p.name).sort()));
  out.push(`0 upgraded, ${plan.packages.length} newly installed, 0 to remove and 0 not upgraded.`);
  out.push(`Need to get ${aptSize(plan.downloadSize)} of archives.`);
  out.push(`After this operation, ${aptSize(plan.installedSize)} of additional disk space will be used.`);
  const w = Math.max(...plan.packages.map((p) => p.name.length));
  const v = Math.max(...plan.packages.map((p) => p.version.length));
  for (const p of plan.packages) {
    const why = p.reason === 'requested' ? 'requested' : `${p.relation ?? 'dependency'} of ${p.requiredBy ?? '?'}`;
    out.push(`  ${p.name.padEnd(w)}  ${p.version.padEnd(v)}  ${p.architecture.padEnd(5)} ${aptSize(p.downloadSize).padStart(8)}  ${p.origin}  (${why})`);
  }
  return out;
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

