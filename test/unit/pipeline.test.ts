// The request and origin stages are pure: what a transaction asks apt for,
// given what the deployment layers, and the origin it deploys with.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import type { Plan, PlannedPackage } from '../../src/apt/plan.js';
import { formatOrigin, parseOrigin, type Origin } from '../../src/deploy/origin.js';
import { nextOrigin } from '../../src/pipeline/origin.js';
import { reconcile } from '../../src/pipeline/request.js';
import { diffPackages, renderDiff } from '../../src/pipeline/package-diff.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A local-package store holding .deb files for IDS (NAME_VERSION_ARCH). */
function localStore(...ids: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'deblayer-unit-local-'));
  dirs.push(dir);
  for (const id of ids) writeFileSync(join(dir, `${id}.deb`), '');
  return dir;
}

const origin = (o: Partial<Origin>): Origin => ({ requested: [], requestedLocal: [], other: {}, ...o });

describe('reconcile', () => {
  test('an install asks apt for the whole layered set plus what is new, and kept local files', () => {
    const store = localStore('page_1.0_all');
    const r = reconcile(origin({ requested: ['htop'], requestedLocal: ['page_1.0_all'] }), { kind: 'install', install: ['htop', 'strace=6.1-0.1'], localFiles: ['/x/a.deb'] }, store);
    expect(r).toEqual({
      kind: 'change',
      request: { install: ['strace=6.1-0.1'], localFiles: [join(store, 'page_1.0_all.deb'), '/x/a.deb'], layered: ['htop'], drop: [] },
    });
  });

  test('installing what is layered already changes nothing, in a dry run too', () => {
    const o = origin({ requested: ['htop', 'vim'] });
    expect(reconcile(o, { kind: 'install', install: ['htop', 'vim:amd64'], localFiles: [] }, localStore())).toMatchObject({
      kind: 'unchanged',
      alreadyLayered: ['htop', 'vim'],
    });
    expect(reconcile(o, { kind: 'install', install: ['htop'], localFiles: [] }, localStore()).kind).toBe('unchanged');
  });

  test('NAME=VERSION of a layered package asks apt for that version, unless it is the version layered now', () => {
    const o = origin({ requested: ['fxa'] });
    const layered = new Map([['fxa', '1.0']]);
    expect(reconcile(o, { kind: 'install', install: ['fxa=2.0'], localFiles: [] }, localStore(), layered)).toMatchObject({
      kind: 'change',
      request: { install: ['fxa=2.0'], layered: ['fxa'] },
    });
    expect(reconcile(o, { kind: 'install', install: ['fxa=1.0'], localFiles: [] }, localStore(), layered)).toMatchObject({ kind: 'unchanged', alreadyLayered: ['fxa'] });
  });

  test('uninstall drops names, and a local package by its name; the .deb of a dropped local package may be gone', () => {
    const store = localStore('keep_2_all');
    const o = origin({ requested: ['htop', 'vim'], requestedLocal: ['page_1.0_all', 'keep_2_all'] });
    const r = reconcile(o, { kind: 'uninstall', drop: ['vim', 'page'] }, store);
    expect(r).toEqual({
      kind: 'change',
      request: { install: [], localFiles: [join(store, 'keep_2_all.deb')], layered: ['htop', 'vim', 'page'], drop: ['vim', 'page'] },
    });
  });

  test('uninstall --idempotent ignores names that are not layered, and changes nothing when none is', () => {
    const o = origin({ requested: ['htop'] });
    expect(reconcile(o, { kind: 'uninstall', drop: ['nano'], idempotent: true }, localStore())).toMatchObject({ kind: 'unchanged', notLayered: ['nano'] });
    expect(reconcile(o, { kind: 'uninstall', drop: ['nano', 'htop'], idempotent: true }, localStore())).toMatchObject({
      kind: 'change',
      request: { drop: ['htop'] },
    });
    // Without --idempotent the name goes to apt's resolution, which refuses it by name.
    expect(reconcile(o, { kind: 'uninstall', drop: ['nano'] }, localStore())).toMatchObject({ kind: 'change', request: { drop: ['nano'] } });
  });

  test('a layered local package whose .deb is gone stops the transaction, naming it', () => {
    expect(() => reconcile(origin({ requestedLocal: ['page_1.0_all'] }), { kind: 'recompose' }, localStore())).toThrow(/page_1\.0_all is no longer in/);
  });
});

function planned(name: string, local = false): PlannedPackage {
  return {
    name,
    version: '1.0',
    architecture: 'amd64',
    origin: local ? 'local file' : 'Debian',
    downloadSize: 1,
    installedSize: 1,
    reason: 'requested',
    source: local ? { kind: 'local', path: `/x/${name}.deb` } : { kind: 'archive', filename: `pool/${name}.deb` },
  };
}

describe('nextOrigin', () => {
  const plan = (requested: string[], packages: PlannedPackage[], inactive: string[] = []): Plan => ({
    base: { label: 'debian/12', commit: 'c0' },
    requested,
    inactive,
    packages,
    downloadSize: 0,
    installedSize: 0,
  });

  test('names go to requested (inactive ones too), local packages to requestedLocal as NAME_VERSION_ARCH', () => {
    const o = nextOrigin(origin({ baseRefspec: 'debian/12', other: { x: { a: '1' } } }), undefined, plan(['htop', 'page'], [planned('htop'), planned('page', true)], ['bash']), 'c1', []);
    expect(o).toEqual({ baseRefspec: 'debian/12', requested: ['htop', 'bash'], requestedLocal: ['page_1.0_amd64'], baseCommit: 'c1', other: { x: { a: '1' } } });
  });

  test("the deployment's refspec is the base refspec when the origin has none; skipped scripts only while there are some", () => {
    const deployment = { refspec: 'os:debian/13' } as Parameters<typeof nextOrigin>[1];
    const o = nextOrigin(origin({ skipScripts: ['old'] }), deployment, plan(['htop'], [planned('htop')]), 'c1', ['htop']);
    expect(o.baseRefspec).toBe('os:debian/13');
    expect(o.skipScripts).toEqual(['htop']);
    expect(nextOrigin(origin({ skipScripts: ['old'] }), deployment, plan([], []), 'c1', [])).not.toHaveProperty('skipScripts');
  });

  test('a rebase replaces the base refspec and keeps the requests; the origin file then follows the new branch', () => {
    const deployment = { refspec: 'os:debian/13' } as Parameters<typeof nextOrigin>[1];
    const o = nextOrigin(origin({ baseRefspec: 'origin:fx/base', requested: ['htop'] }), deployment, plan(['htop'], [planned('htop')]), 'c2', [], 'pub:fx/other');
    expect(o).toMatchObject({ baseRefspec: 'pub:fx/other', requested: ['htop'], baseCommit: 'c2' });
    expect(formatOrigin(o)).toMatch(/^\[origin\]\nbaserefspec=pub:fx\/other\n/);
    expect(parseOrigin(formatOrigin(o))).toEqual(o);
  });
});

describe('apply (a set of requests)', () => {
  test('asks apt for the whole set from the base, and says which names it adds and drops', () => {
    const store = localStore('page_1.0_all');
    const r = reconcile(origin({ requested: ['htop', 'vim'], requestedLocal: ['page_1.0_all'] }), { kind: 'set', packages: ['vim', 'curl=7.88'], localFiles: [] }, store);
    expect(r).toEqual({
      kind: 'change',
      request: { install: ['vim', 'curl=7.88'], localFiles: [], layered: [], drop: [] },
      requests: { added: ['curl'], removed: ['htop', 'page'] },
    });
  });

  test('the same names as layered change nothing; a pin or a local file is still a change', () => {
    const o = origin({ requested: ['htop', 'vim'] });
    expect(reconcile(o, { kind: 'set', packages: ['vim', 'htop'], localFiles: [] }, localStore())).toMatchObject({ kind: 'unchanged', alreadyLayered: ['vim', 'htop'] });
    expect(reconcile(o, { kind: 'set', packages: ['vim', 'htop=3.2'], localFiles: [] }, localStore()).kind).toBe('change');
    expect(reconcile(o, { kind: 'set', packages: ['vim', 'htop'], localFiles: ['/x/a.deb'] }, localStore()).kind).toBe('change');
  });
});

describe('package diff', () => {
  test('added, removed and changed, by name, in name order', () => {
    const d = diffPackages(
      [{ name: 'nginx', version: '1.22.1-9' }, { name: 'libgd3', version: '2.3.3' }, { name: 'htop', version: '3.2.2-2' }],
      [{ name: 'nginx', version: '1.22.1-9+deb12u1' }, { name: 'curl', version: '7.88.1' }, { name: 'htop', version: '3.2.2-2' }],
    );
    expect(d).toEqual({
      added: [{ name: 'curl', version: '7.88.1' }],
      removed: [{ name: 'libgd3', version: '2.3.3' }],
      changed: [{ name: 'nginx', from: '1.22.1-9', to: '1.22.1-9+deb12u1' }],
    });
    expect(renderDiff(d)).toEqual(['Changed:', '  nginx 1.22.1-9 -> 1.22.1-9+deb12u1', 'Removed:', '  libgd3-2.3.3', 'Added:', '  curl-7.88.1']);
    expect(renderDiff(diffPackages([], []))).toEqual(['  (no package changed)']);
  });
});
