// An incremental uninstall: the real dpkg purges the dropped packages in the
// sandbox, over a writable view of the current state, as `apt-get purge` does
// on a mutable system (prerm, files removed, postrm remove and purge, the
// triggers that activates, database entries gone); the rest of the state is
// kept as it is. Purge, not remove: an immutable layer has no use for the
// conffiles that `dpkg --remove` would keep, and a state derived without the
// package has none of them either.
//
// dpkg removes what the package's .list names. What deblayer generated for the
// package beside its files (its tmpfiles.d fragment, its /var content as
// factory files) is in the package's tree but not in its .list: those paths
// are removed too, unless the base or a package that stays has them.

import { existsSync, lstatSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DeblayerError } from '../errors.js';
import { MountNamespace } from '../exec/namespace.js';
import { readTextIfPresent } from '../read-text.js';
import { closeRun, commitRun, hostAccounts, openScriptsView, prepareView, readBack, runDpkg, type Run, type ScriptsInput, type ScriptsResult } from './run-scripts.js';
import { inUsr, closeWritable, type View } from './view.js';

/** A package dpkg purges. */
export interface PurgeTarget {
  package: string;
  architecture: string;
  multiArchSame: boolean;
}

export interface PurgeInput extends Omit<ScriptsInput, 'composed' | 'skip'> {
  /** The state the packages are purged from (`base` is the commit's parent). */
  state: string;
  /** What dpkg purges; `records` are those of them the package cache has (base packages have none). */
  targets: PurgeTarget[];
  /** Tree paths deblayer wrote for the dropped packages, beyond what dpkg lists; those the base or a kept package has are left out. */
  generated: string[];
  /** dpkg --force-depends: packages that depend on them stay (a replacement comes next). */
  forceDepends?: boolean;
}

const PURGE = `exec dpkg --status-fd 3 --abort-after=1 "$@" 3>&1 2>&1`;

export async function purgePackages(input: PurgeInput): Promise<ScriptsResult> {
  const run: Run = { input: { ...input, composed: input.state, skip: [] }, ns: await MountNamespace.open(), output: input.output ?? [], scratch: [] };
  try {
    const view = await openScriptsView(run, { base: input.state, commit: input.state }, 'p');
    if (!existsSync(inUsr(view, 'bin/dpkg'))) throw new DeblayerError('the state has no /usr/bin/dpkg: cannot purge packages from it');
    const accounts = hostAccounts(run.input, view);
    await prepareView(run, view, accounts.seeded);
    const loggedErrors = await purge(run, view, input.targets, input.forceDepends ?? false);
    removeGenerated(view, input.generated);
    dropFactoryOfDeleted(view);
    const after = { passwd: readTextIfPresent(inUsr(view, 'etc/passwd')), group: readTextIfPresent(inUsr(view, 'etc/group')) };
    await closeWritable(view);
    const back = await readBack(run, view, { accounts, after, replaced: new Set(['sbin/policy-rc.d']), runnable: input.records });
    return await commitRun(run, view, { ...back, after, loggedErrors }, input.base);
  } finally {
    await closeRun(run);
  }
}

/** dpkg --purge of the targets; returns what scripts logged as errors. */
function purge(run: Run, view: View, targets: PurgeTarget[], forceDepends: boolean): Promise<string[]> {
  const names = targets.map((r) => (r.multiArchSame ? `${r.package}:${r.architecture}` : r.package));
  const force = forceDepends ? ['--force-depends'] : [];
  return runDpkg(run, view, PURGE, [...force, '--purge', ...names], `dpkg ${force.map((f) => `${f} `).join('')}--purge ${names.join(' ')}`);
}

/** Removes the generated paths (tree paths, usr/...) still in the view; directories only once empty, deepest first. */
function removeGenerated(view: View, generated: string[]): void {
  const paths = generated.filter((p) => p.startsWith('usr/')).sort((a, b) => b.length - a.length);
  for (const path of paths) {
    const at = inUsr(view, path.slice('usr/'.length));
    let st;
    try {
      st = lstatSync(at);
    } catch {
      continue;
    }
    if (!st.isDirectory()) rmSync(at, { force: true });
    else if (readdirSync(at).length === 0) rmSync(at, { recursive: true, force: true });
  }
}

/**
 * What a postrm deleted under /var (whiteouts in the var overlay's upper
 * directory) loses its factory copy too, so that the host does not make it
 * again at boot: its tmpfiles.d line goes with the scripts' file (readBack).
 */
function dropFactoryOfDeleted(view: View, rel = ''): void {
  const dir = join(view.varUpper, rel);
  for (const name of readdirSync(dir)) {
    const path = rel === '' ? name : `${rel}/${name}`;
    const st = lstatSync(join(dir, name));
    if (st.isCharacterDevice() && st.rdev === 0) rmSync(inUsr(view, `share/factory/var/${path}`), { recursive: true, force: true });
    else if (st.isDirectory()) dropFactoryOfDeleted(view, path);
  }
}
