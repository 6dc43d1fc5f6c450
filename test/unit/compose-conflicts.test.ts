// Whether layered packages may be laid over the base and over each other
// (checkConflicts), and the order Replaces gives them (replacesOrder): on
// tree indexes made by hand, as the package cache and the base would give them.

import { describe, expect, test } from 'vitest';
import { checkConflicts, FileConflictError, replacesOrder, type BaseOwnership } from '../../src/compose/compose.js';
import type { CachedPackage } from '../../src/compose/package-cache.js';
import type { TreeIndex } from '../../src/compose/tree-index.js';
import { EXIT } from '../../src/errors.js';

/** A regular file's index entry; files with the same CONTENT letter are identical. */
const file = (content: string) => `- ${content.repeat(64)}`;
const link = (content: string) => `l ${content.repeat(64)}`;

function pkg(name: string, index: TreeIndex, replaces?: string): CachedPackage {
  const controlText = `Package: ${name}\nVersion: 1.0\nArchitecture: all\n${replaces === undefined ? '' : `Replaces: ${replaces}\n`}Description: test\n`;
  return {
    ref: `deblayer/pkg/${name}/1.0_all`,
    commit: name.padEnd(64, '0'),
    index,
    record: {
      package: name,
      version: '1.0',
      architecture: 'all',
      files: [],
      md5sums: {},
      conffiles: [],
      tmpfiles: [],
      controlText,
      members: [],
      multiArchSame: false,
      conffileMd5: {},
    },
  };
}

/** The base: a few files, owned by base packages (libfx1 is Multi-Arch: same) or by none. */
const BASE_INDEX: TreeIndex = {
  usr: 'd',
  'usr/share': 'd',
  'usr/share/doc': 'd',
  'usr/share/doc/fx-basepkg': 'd',
  'usr/share/doc/fx-basepkg/marker': file('a'),
  'usr/share/common': file('c'),
  'usr/share/dir': 'd',
  'usr/bin': 'd',
  'usr/bin/tool': file('t'),
  'usr/lib/x86_64-linux-gnu/libfx.so.1': file('l'),
  'usr/share/unowned': file('u'),
};
const BASE_OWNERS: Record<string, string> = {
  'usr/share/doc/fx-basepkg/marker': 'fx-basepkg',
  'usr/share/common': 'fx-basepkg',
  'usr/share/dir': 'fx-basepkg',
  'usr/bin/tool': 'fx-basepkg',
  'usr/lib/x86_64-linux-gnu/libfx.so.1': 'libfx1:amd64',
};

/** The base as checkConflicts asks for it, counting the questions asked. */
function base(index: TreeIndex = BASE_INDEX, owners: Record<string, string> = BASE_OWNERS) {
  const asked = { paths: [] as string[], owners: 0 };
  return {
    asked,
    baseEntries: async (paths: string[]) => {
      asked.paths.push(...paths);
      return Object.fromEntries(paths.filter((p) => index[p] !== undefined).map((p) => [p, index[p]!]));
    },
    baseOwners: async (): Promise<BaseOwnership> => {
      asked.owners++;
      return { owners: new Map(Object.entries(owners)), info: new Map() };
    },
  };
}

async function conflictOf(promise: Promise<unknown>): Promise<FileConflictError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FileConflictError);
  return err as FileConflictError;
}

describe('checkConflicts', () => {
  test('shared directories and files identical to the base are no conflict, and the base owners are not read for them', async () => {
    const b = base();
    const app = pkg('fx-app', { usr: 'd', 'usr/share': 'd', 'usr/share/common': file('c'), 'usr/share/fx-app': file('x') });
    expect(await checkConflicts({ packages: [app], ...b })).toEqual([]);
    // Only what the packages ship is looked up in the base, and nobody's name was needed.
    expect(b.asked.paths.sort()).toEqual(['usr', 'usr/share', 'usr/share/common', 'usr/share/fx-app']);
    expect(b.asked.owners).toBe(0);
  });

  test("a file of a base package with other content names both packages and the Replaces that would allow it, with deblayer's conflict status", async () => {
    const clash = pkg('fx-clash', { 'usr/share/doc/fx-basepkg': 'd', 'usr/share/doc/fx-basepkg/marker': file('b') });
    const err = await conflictOf(checkConflicts({ packages: [clash], ...base() }));
    expect(err.message).toBe(
      'package fx-clash 1.0 and base package fx-basepkg both ship /usr/share/doc/fx-basepkg/marker, with different content (fx-clash would need Replaces: fx-basepkg)',
    );
    expect(err.exitCode).toBe(EXIT.fileConflict);
  });

  test('a base file no package owns is "the base", with no Replaces to suggest, and no Replaces allows it', async () => {
    const p = pkg('fx-clash', { 'usr/share/unowned': file('z') }, 'fx-basepkg');
    const err = await conflictOf(checkConflicts({ packages: [p], ...base() }));
    expect(err.message).toBe('package fx-clash 1.0 and the base both ship /usr/share/unowned, with different content');
  });

  test('a directory where the base has a file, a file where it has a directory, a link for a file: each a conflict', async () => {
    const dir = pkg('fx-dir', { 'usr/bin/tool': 'd' });
    expect((await conflictOf(checkConflicts({ packages: [dir], ...base() }))).message).toBe(
      'package fx-dir 1.0 and base package fx-basepkg both ship /usr/bin/tool, with a directory in one and a file in the other (fx-dir would need Replaces: fx-basepkg)',
    );
    const f = pkg('fx-file', { 'usr/share/dir': file('c') });
    expect((await conflictOf(checkConflicts({ packages: [f], ...base() }))).message).toMatch(/both ship \/usr\/share\/dir, with a directory in one and a file in the other/);
    const l = pkg('fx-link', { 'usr/bin/tool': link('t') });
    expect((await conflictOf(checkConflicts({ packages: [l], ...base() }))).message).toMatch(/both ship \/usr\/bin\/tool, with different content/);
  });

  test('Replaces of the base package lets the layered package take its files over, named by their info files (Multi-Arch: same keeps its :arch)', async () => {
    const takeover = pkg(
      'fx-takeover',
      { 'usr/share/doc/fx-basepkg/marker': file('b'), 'usr/lib/x86_64-linux-gnu/libfx.so.1': file('m'), 'usr/share/common': file('c') },
      'fx-basepkg (<< 2.0), libfx1',
    );
    expect(await checkConflicts({ packages: [takeover], ...base() })).toEqual([
      { path: 'usr/share/doc/fx-basepkg/marker', to: 'fx-takeover', from: { kind: 'base', prefix: 'fx-basepkg' } },
      { path: 'usr/lib/x86_64-linux-gnu/libfx.so.1', to: 'fx-takeover', from: { kind: 'base', prefix: 'libfx1:amd64' } },
    ]);
    // Replaces of another package allows nothing here.
    const other = pkg('fx-other', { 'usr/share/doc/fx-basepkg/marker': file('b') }, 'fx-unrelated');
    expect((await conflictOf(checkConflicts({ packages: [other], ...base() }))).message).toMatch(/\(fx-other would need Replaces: fx-basepkg\)$/);
  });

  test('two layered packages with one path: the same content is fine, other content names the package that laid it first', async () => {
    const b = base();
    const one = pkg('fx-one', { 'usr/share/fx': 'd', 'usr/share/fx/same': file('s'), 'usr/share/fx/data': file('1') });
    const two = pkg('fx-two', { 'usr/share/fx': 'd', 'usr/share/fx/same': file('s') });
    expect(await checkConflicts({ packages: [one, two], ...b })).toEqual([]);
    // fx-two laid the same file again: fx-one, which laid it first, is the owner named.
    const three = pkg('fx-three', { 'usr/share/fx/same': file('3') });
    const err = await conflictOf(checkConflicts({ packages: [one, two, three], ...b }));
    expect(err.message).toBe('package fx-three 1.0 and package fx-one both ship /usr/share/fx/same, with different content (fx-three would need Replaces: fx-one)');
    // A layered owner is named from the layer: the base's owners were not read.
    expect(b.asked.owners).toBe(0);
  });

  test('Replaces between layered packages: the later one takes the file from the one it replaces, and only in that order', async () => {
    const old = pkg('fx-oldname', { 'usr/share/fx-renamed': 'd', 'usr/share/fx-renamed/data': file('o') });
    const renamed = pkg('fx-newname', { 'usr/share/fx-renamed': 'd', 'usr/share/fx-renamed/data': file('n') }, 'fx-oldname (<< 2)');
    expect(await checkConflicts({ packages: [old, renamed], ...base() })).toEqual([
      { path: 'usr/share/fx-renamed/data', to: 'fx-newname', from: { kind: 'package', name: 'fx-oldname' } },
    ]);
    expect((await conflictOf(checkConflicts({ packages: [renamed, old], ...base() }))).message).toBe(
      'package fx-oldname 1.0 and package fx-newname both ship /usr/share/fx-renamed/data, with different content (fx-oldname would need Replaces: fx-newname)',
    );
  });
});

describe('replacesOrder', () => {
  const names = (packages: CachedPackage[]) => packages.map((p) => p.record.package);

  test('a package comes after the layered packages it Replaces, the rest in the order given', async () => {
    const renamed = pkg('fx-newname', { 'usr/share/fx-renamed/data': file('n') }, 'fx-oldname (<< 2)');
    const old = pkg('fx-oldname', { 'usr/share/fx-renamed/data': file('o') });
    const a = pkg('fx-a', {});
    const z = pkg('fx-z', {});
    expect(names(replacesOrder([z, renamed, a, old]))).toEqual(['fx-z', 'fx-oldname', 'fx-newname', 'fx-a']);
    // What the order is for: a plan that has the replacing package first is laid without a conflict.
    expect(await checkConflicts({ packages: replacesOrder([renamed, old]), ...base() })).toEqual([
      { path: 'usr/share/fx-renamed/data', to: 'fx-newname', from: { kind: 'package', name: 'fx-oldname' } },
    ]);
  });

  test('reads every name of the field: versions, architectures, continuation lines; a chain is laid from its end', () => {
    const c = pkg('fx-c', {});
    const b = pkg('fx-b', {}, 'fx-c:any');
    const a = pkg('fx-a', {}, 'fx-unlayered,\n fx-b (<= 1.0)');
    expect(names(replacesOrder([a, b, c]))).toEqual(['fx-c', 'fx-b', 'fx-a']);
  });

  test('Replaces of packages not layered or of itself change nothing; a cycle ends, with each package once', () => {
    const self = pkg('fx-self', {}, 'fx-self, fx-basepkg');
    const lone = pkg('fx-lone', {});
    expect(names(replacesOrder([self, lone]))).toEqual(['fx-self', 'fx-lone']);
    // fx-x is placed after what it replaces; fx-y's Replaces of fx-x, already being placed, is not followed.
    const x = pkg('fx-x', {}, 'fx-y');
    const y = pkg('fx-y', {}, 'fx-x');
    expect(names(replacesOrder([x, y, lone]))).toEqual(['fx-y', 'fx-x', 'fx-lone']);
  });
});
