// A deployment's .origin file (a GKeyFile) as deblayer writes it: rpm-ostree's
// layout, so that tools that know it read it, and so that a plain
// `ostree admin upgrade` cannot follow a `refspec=` and silently drop the
// layered packages:
//
//   [origin]
//   baserefspec=debian/12
//   [packages]
//   requested=htop;curl;
//   requested-local=fx-local_3.0_all;
//   [overrides]
//   remove=nano;vim-tiny;
//   replace=openssl=3.0.17-1~deb12u3;
//   replace-local=libfoo1_1.2-1_amd64;
//   [deblayer]
//   base-commit=4005...c0
//   skip-scripts=foo;

import { localIdName, localIdVersion, specName, specVersion } from '../vocabulary/packages.js';

export interface Origin {
  /** The base's refspec (what an upgrade follows); a plain `refspec=` for unlayered deployments. */
  baseRefspec?: string;
  requested: string[];
  /** Local .deb files, as NAME_VERSION_ARCH of their package-cache commits. */
  requestedLocal: string[];
  baseCommit?: string;
  /** Packages whose maintainer scripts are not run (install --skip-scripts). */
  skipScripts?: string[];
  /** Base packages the deployment goes without (override remove), as rpm-ostree's [overrides] remove=. */
  overrideRemove?: string[];
  /** Base packages replaced by another version from the sources (override replace), NAME=VERSION. */
  overrideReplace?: string[];
  /** Base packages replaced by local .deb files, NAME_VERSION_ARCH as requested-local names them. */
  overrideReplaceLocal?: string[];
  /** Groups and keys deblayer does not know, kept as they were. */
  other: Record<string, Record<string, string>>;
}

export function parseOrigin(text: string): Origin {
  const groups: Record<string, Record<string, string>> = {};
  let group = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const g = /^\[(.+)\]$/.exec(line);
    if (g) {
      group = g[1]!;
      groups[group] ??= {};
      continue;
    }
    const eq = line.indexOf('=');
    if (eq > 0 && group) groups[group]![line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  const list = (v: string | undefined) => (v ?? '').split(';').filter((x) => x !== '');
  const origin = groups.origin ?? {};
  const packages = groups.packages ?? {};
  const deblayer = groups.deblayer ?? {};
  const overrides = groups.overrides ?? {};
  const baseRefspec = origin.baserefspec ?? origin.refspec;
  const other: Record<string, Record<string, string>> = {};
  for (const [name, keys] of Object.entries(groups)) {
    const known =
      name === 'origin' ? ['baserefspec', 'refspec'] : name === 'packages' ? ['requested', 'requested-local'] : name === 'deblayer' ? ['base-commit', 'skip-scripts'] : name === 'overrides' ? ['remove', 'replace', 'replace-local'] : [];
    const rest = Object.fromEntries(Object.entries(keys).filter(([k]) => !known.includes(k)));
    if (Object.keys(rest).length > 0) other[name] = rest;
  }
  return {
    ...(baseRefspec !== undefined ? { baseRefspec } : {}),
    requested: list(packages.requested),
    requestedLocal: list(packages['requested-local']),
    ...(deblayer['base-commit'] ? { baseCommit: deblayer['base-commit'] } : {}),
    ...(list(deblayer['skip-scripts']).length > 0 ? { skipScripts: list(deblayer['skip-scripts']) } : {}),
    ...(list(overrides.remove).length > 0 ? { overrideRemove: list(overrides.remove) } : {}),
    ...(list(overrides.replace).length > 0 ? { overrideReplace: list(overrides.replace) } : {}),
    ...(list(overrides['replace-local']).length > 0 ? { overrideReplaceLocal: list(overrides['replace-local']) } : {}),
    other,
  };
}

/** Base packages left out of a deployment: removed, or replaced by another version (from the sources, or LOCAL files). */
export interface BaseOverrides {
  remove: string[];
  replace: { name: string; version: string; local?: boolean }[];
}

export function originOverrides(origin: Origin | undefined): BaseOverrides {
  return {
    remove: origin?.overrideRemove ?? [],
    replace: [
      ...(origin?.overrideReplace ?? []).map((s) => ({ name: specName(s), version: specVersion(s) ?? '' })),
      ...(origin?.overrideReplaceLocal ?? []).map((id) => ({ name: localIdName(id), version: localIdVersion(id), local: true })),
    ],
  };
}

/** Whether the origin changes its base: packages layered, or base packages removed. */
export function changesBase(o: Origin): boolean {
  return [o.requested, o.requestedLocal, o.overrideRemove ?? [], o.overrideReplace ?? [], o.overrideReplaceLocal ?? []].some((l) => l.length > 0);
}

export function formatOrigin(o: Origin): string {
  const layered = changesBase(o);
  const groups: Record<string, Record<string, string>> = {};
  const put = (g: string, k: string, v: string) => ((groups[g] ??= {})[k] = v);
  if (o.baseRefspec !== undefined) put('origin', layered ? 'baserefspec' : 'refspec', o.baseRefspec);
  if (o.requested.length > 0) put('packages', 'requested', o.requested.map((r) => `${r};`).join(''));
  if (o.requestedLocal.length > 0) put('packages', 'requested-local', o.requestedLocal.map((r) => `${r};`).join(''));
  if ((o.overrideRemove ?? []).length > 0) put('overrides', 'remove', o.overrideRemove!.map((r) => `${r};`).join(''));
  if ((o.overrideReplace ?? []).length > 0) put('overrides', 'replace', o.overrideReplace!.map((r) => `${r};`).join(''));
  if ((o.overrideReplaceLocal ?? []).length > 0) put('overrides', 'replace-local', o.overrideReplaceLocal!.map((r) => `${r};`).join(''));
  if (o.baseCommit && layered) put('deblayer', 'base-commit', o.baseCommit);
  if (o.skipScripts && o.skipScripts.length > 0 && layered) put('deblayer', 'skip-scripts', o.skipScripts.map((r) => `${r};`).join(''));
  for (const [g, keys] of Object.entries(o.other)) for (const [k, v] of Object.entries(keys)) put(g, k, v);
  return Object.entries(groups)
    .map(([g, keys]) => `[${g}]\n${Object.entries(keys).map(([k, v]) => `${k}=${v}`).join('\n')}\n`)
    .join('\n');
}
