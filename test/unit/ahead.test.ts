// Which command lines start libapt ahead, and on which sysroot and cache
// directory's hint (src/apt/ahead.ts): the options are read as commander reads
// them, wherever they stand, and only install and uninstall resolve first thing.

import { describe, expect, test } from 'vitest';
import { resolvingPlace, VALUED } from '../../src/apt/ahead.js';
import { buildProgram } from '../../src/cli/program.js';

describe('resolvingPlace', () => {
  test('install and uninstall on the host: the default sysroot and cache directory', () => {
    expect(resolvingPlace(['install', '-y', 'htop'])).toEqual({ sysroot: '/', cacheDir: '/var/cache/deblayer' });
    expect(resolvingPlace(['-q', 'uninstall', 'htop'])).toEqual({ sysroot: '/', cacheDir: '/var/cache/deblayer' });
  });

  test('--sysroot and --cache-dir, separate or with =, before or after the command, made absolute', () => {
    expect(resolvingPlace(['--sysroot', '/mnt/s', '--cache-dir=/c', 'install', 'x'])).toEqual({ sysroot: '/mnt/s', cacheDir: '/c' });
    expect(resolvingPlace(['install', '--sysroot=/mnt/s/', 'x', '--cache-dir', 'rel'])).toEqual({ sysroot: '/mnt/s', cacheDir: `${process.cwd()}/rel` });
  });

  test('the value of an option is not the command', () => {
    expect(resolvingPlace(['--os', 'install', 'status'])).toBeUndefined();
    expect(resolvingPlace(['--repo', '/r', '--config-dir', 'uninstall', 'install', 'x'])).toEqual({ sysroot: '/', cacheDir: '/var/cache/deblayer' });
  });

  test('other commands, package arguments named install, a missing option value: nothing starts', () => {
    expect(resolvingPlace(['status'])).toBeUndefined();
    expect(resolvingPlace(['upgrade'])).toBeUndefined();
    expect(resolvingPlace(['deb', 'info', 'install'])).toBeUndefined();
    expect(resolvingPlace(['history', '--', 'install'])).toBeUndefined();
    expect(resolvingPlace(['install', 'x', '--sysroot'])).toBeUndefined();
  });

  test("the global options read as taking a value are exactly those of deblayer's command line", () => {
    const valued = buildProgram().options.filter((o) => o.required || o.optional).map((o) => o.long);
    expect([...VALUED].sort()).toEqual(valued.sort());
  });
});
