// What changed between two package sets (a branch's previous commit and the
// new one, or two deployments): what compose, rebase and apply print, as
// rpm-ostree's "Added / Removed / Upgraded" lists do.

export interface VersionedName {
  name: string;
  version: string;
}

export interface PackageDiff {
  added: VersionedName[];
  removed: VersionedName[];
  changed: { name: string; from: string; to: string }[];
}

export function diffPackages(before: VersionedName[], after: VersionedName[]): PackageDiff {
  const old = new Map(before.map((p) => [p.name, p.version]));
  const now = new Map(after.map((p) => [p.name, p.version]));
  const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  return {
    added: after.filter((p) => !old.has(p.name)).sort(byName),
    removed: before.filter((p) => !now.has(p.name)).sort(byName),
    changed: after
      .filter((p) => old.has(p.name) && old.get(p.name) !== p.version)
      .map((p) => ({ name: p.name, from: old.get(p.name)!, to: p.version }))
      .sort(byName),
  };
}

export function isEmptyDiff(d: PackageDiff): boolean {
  return d.added.length + d.removed.length + d.changed.length === 0;
}

/** The diff as lines for a person: one package a line, rpm-ostree's words. */
export function renderDiff(d: PackageDiff): string[] {
  if (isEmptyDiff(d)) return ['  (no package changed)'];
  return [
    ...(d.changed.length > 0 ? ['Changed:', ...d.changed.map((c) => `  ${c.name} ${c.from} -> ${c.to}`)] : []),
    ...(d.removed.length > 0 ? ['Removed:', ...d.removed.map((p) => `  ${p.name}-${p.version}`)] : []),
    ...(d.added.length > 0 ? ['Added:', ...d.added.map((p) => `  ${p.name}-${p.version}`)] : []),
  ];
}
