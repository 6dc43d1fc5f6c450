// renderPlan says what a plan changes as apt-get does: new packages, layered
// ones that move (old -> new), removals, and a summary line that counts them;
// and dpkg's version order, which tells an upgrade from a downgrade.

import { describe, expect, test } from 'vitest';
import { changesNothing, renderPlan, type Plan, type PlannedPackage } from '../../src/apt/plan.js';
import { againstState } from '../../src/apt/resolve-state.js';
import type { CurrentState } from '../../src/apt/current-state.js';
import { parseStatus } from '../../src/base/dpkg-status.js';
import { compareVersions } from '../../src/vocabulary/packages.js';

const pkg = (name: string, version: string, extra: Partial<PlannedPackage> = {}): PlannedPackage => ({
  name,
  version,
  architecture: 'all',
  origin: 'deblayer-tests:./',
  downloadSize: 1000,
  installedSize: 10240,
  reason: 'requested',
  source: { kind: 'archive', filename: `./${name}_${version}_all.deb` },
  ...extra,
});

const plan = (packages: PlannedPackage[], extra: Partial<Plan> = {}): Plan => ({
  base: { label: 'fx/base', commit: 'c'.repeat(64) },
  requested: packages.filter((p) => p.reason === 'requested').map((p) => p.name),
  inactive: [],
  packages,
  downloadSize: packages.filter((p) => p.current !== p.version).reduce((s, p) => s + p.downloadSize, 0),
  installedSize: packages.reduce((s, p) => s + p.installedSize, 0),
  ...extra,
});

describe('renderPlan', () => {
  test('on a plain base: every package is new, as before', () => {
    const lines = renderPlan(plan([pkg('fx-lib', '1.2', { reason: 'dependency', requiredBy: 'fx-app', relation: 'Depends' }), pkg('fx-app', '1.0')]));
    expect(lines.slice(0, 6)).toEqual([
      'The following additional packages will be installed:',
      '  fx-lib',
      'The following NEW packages will be installed:',
      '  fx-app fx-lib',
      '0 upgraded, 2 newly installed, 0 to remove and 0 not upgraded.',
      'Need to get 2000 B of archives.',
    ]);
    expect(lines[6]).toBe('After this operation, 20.5 kB of additional disk space will be used.');
    expect(lines[7]).toMatch(/^ {2}fx-lib {2}1\.2 {2}all {5}1000 B {2}deblayer-tests:\.\/ {2}\(Depends of fx-app\)$/);
  });

  test('against a layered state: kept packages are not listed, a new one is the only NEW one; what apt counts as not upgraded is said', () => {
    const lines = renderPlan(plan([pkg('fxa', '1.0', { current: '1.0' }), pkg('fxb', '1.0')], { previousInstalledSize: 10240, notUpgraded: 1 }));
    expect(lines).toEqual([
      'The following NEW packages will be installed:',
      '  fxb',
      '0 upgraded, 1 newly installed, 0 to remove and 1 not upgraded.',
      'Need to get 1000 B of archives.',
      'After this operation, 10.2 kB of additional disk space will be used.',
      expect.stringMatching(/^ {2}fxb {2}1\.0 {2}all .*\(requested\)$/),
    ]);
  });

  test('a layered package that moves says old -> new; removals are listed and counted', () => {
    const p = plan([pkg('fxa', '2.0', { current: '1.0', reason: 'dependency', requiredBy: 'fxc', relation: 'Depends' }), pkg('fxc', '1.0')], {
      removed: [{ name: 'fxb', version: '1.0', architecture: 'all', installedSize: 40960 }],
      previousInstalledSize: 51200,
    });
    const lines = renderPlan(p);
    expect(lines.slice(0, 9)).toEqual([
      'The following additional packages will be installed:',
      '  fxa',
      'The following packages will be REMOVED:',
      '  fxb',
      'The following NEW packages will be installed:',
      '  fxc',
      'The following packages will be upgraded:',
      '  fxa (1.0 -> 2.0)',
      '1 upgraded, 1 newly installed, 1 to remove and 0 not upgraded.',
    ]);
    expect(lines).toContain('After this operation, 30.7 kB disk space will be freed.');
    expect(lines.find((l) => l.startsWith('  fxa  '))).toMatch(/\(Depends of fxc, layered now: 1\.0\)$/);
  });

  test('a downgrade (a pinned version) is its own section and count', () => {
    const lines = renderPlan(plan([pkg('fxa', '1:0.9', { current: '1:1.0' })], { previousInstalledSize: 10240 }));
    expect(lines.slice(0, 3)).toEqual([
      'The following packages will be DOWNGRADED:',
      '  fxa (1:1.0 -> 1:0.9)',
      '0 upgraded, 0 newly installed, 1 downgraded, 0 to remove and 0 not upgraded.',
    ]);
  });

  test('an uninstall that only removes needs nothing downloaded', () => {
    const lines = renderPlan(plan([pkg('fxa', '1.0', { current: '1.0' })], { removed: [{ name: 'fxb', version: '1.0', architecture: 'all', installedSize: 10240 }], previousInstalledSize: 20480 }));
    expect(lines).toEqual([
      'The following packages will be REMOVED:',
      '  fxb',
      '0 upgraded, 0 newly installed, 1 to remove and 0 not upgraded.',
      'After this operation, 10.2 kB disk space will be freed.',
    ]);
  });
});

describe('a plan told against the state it replaces (upgrade)', () => {
  const state: CurrentState = {
    commit: 'd'.repeat(64),
    packages: parseStatus(
      'Package: fxa\nStatus: install ok installed\nVersion: 1.0\nArchitecture: all\nInstalled-Size: 10\n\nPackage: fxold\nStatus: install ok installed\nVersion: 1.0\nArchitecture: all\nInstalled-Size: 20\n',
    ),
    paragraphs: [],
    requested: ['fxa', 'fxold'],
    statusText: '',
    metadata: {},
  };

  test('current versions, removals, and what is left to download', () => {
    const told = againstState(plan([pkg('fxa', '2.0'), pkg('fxnew', '1.0')]), state);
    expect(told.packages.map((p) => [p.name, p.current, p.version])).toEqual([
      ['fxa', '1.0', '2.0'],
      ['fxnew', undefined, '1.0'],
    ]);
    expect(told.removed).toEqual([{ name: 'fxold', version: '1.0', architecture: 'all', installedSize: 20480 }]);
    expect(told.previousInstalledSize).toBe(30720);
    expect(changesNothing(told)).toBe(false);
    expect(changesNothing(againstState(plan([pkg('fxa', '1.0'), pkg('fxold', '1.0')]), state))).toBe(true);
  });
});

describe('compareVersions', () => {
  test("dpkg's order", () => {
    const ordered = ['~~', '~~a', '~', '0', '1.0~rc1', '1.0', '1.0-1', '1.0a', '1.0+b1', '1.1', '1.10', '2.0', '1:0.1'];
    for (let i = 0; i + 1 < ordered.length; i++) {
      expect(compareVersions(ordered[i]!, ordered[i + 1]!), `${ordered[i]} < ${ordered[i + 1]}`).toBeLessThan(0);
      expect(compareVersions(ordered[i + 1]!, ordered[i]!)).toBeGreaterThan(0);
    }
    expect(compareVersions('1.01', '1.1')).toBe(0);
    expect(compareVersions('0:1.0', '1.0')).toBe(0);
  });
});
