// Malformed and hostile packages: each gives one clear error line naming the
// file and what is wrong, exits non-zero, and writes nothing outside the target.

import { copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { deblayer } from './helpers/cli.js';
import { arOf, controlTarGz, debWithData, tarOf } from './helpers/craft.js';

const fixtures = inject('fixtures');
let sandbox: string;
let target: string;
let outside: string;

beforeEach(() => {
  sandbox = mkdtempSync(join(tmpdir(), 'deblayer-hostile-'));
  target = join(sandbox, 'target');
  outside = join(sandbox, 'outside');
  mkdirSync(outside);
  writeFileSync(join(outside, 'victim'), 'original\n');
});
afterEach(() => rmSync(sandbox, { recursive: true, force: true }));

/** Nothing appeared next to the target, and the victim file is untouched. */
function expectNothingOutside(): void {
  expect(readdirSync(sandbox).sort()).toEqual(expect.arrayContaining(['outside']));
  expect(readdirSync(sandbox).filter((n) => !['outside', 'target'].includes(n) && !n.endsWith('.deb'))).toEqual([]);
  expect(readdirSync(outside)).toEqual(['victim']);
  expect(readFileSync(join(outside, 'victim'), 'utf8')).toBe('original\n');
}

async function extractFails(deb: string, pattern: RegExp, args: string[] = []): Promise<string> {
  const targetExisted = existsSync(target);
  const r = await deblayer(['deb', 'extract', ...args, deb, target]);
  expect(r.exitCode).toBe(1);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^deblayer: error: /);
  expect(lines[0]).toContain(deb);
  expect(lines[0]).toMatch(pattern);
  expectNothingOutside();
  // A target the command created is gone again: a refused package leaves nothing.
  if (!targetExisted) expect(existsSync(target)).toBe(false);
  return lines[0]!;
}

describe('broken containers', () => {
  it('rejects a file that is not an ar archive', async () => {
    const deb = join(sandbox, 'text.deb');
    writeFileSync(deb, 'this is not a package, just text\n');
    await extractFails(deb, /bad ar magic/);
    const info = await deblayer(['deb', 'info', deb]);
    expect(info.exitCode).toBe(1);
    expect(info.stderr).toMatch(/bad ar magic/);
  });

  it('rejects an empty file', async () => {
    const deb = join(sandbox, 'empty.deb');
    writeFileSync(deb, '');
    await extractFails(deb, /truncated: only 0 bytes/);
  });

  it.each([
    [20, /truncated: member header at offset 8 is cut short/],
    [70, /truncated: member 'debian-binary' declares 4 bytes but only 2 remain/],
    [140, /truncated: member 'control\.tar\.xz' declares \d+ bytes but only \d+ remain/],
    [-100, /truncated: member 'data\.tar\.xz' declares \d+ bytes but only \d+ remain/],
  ])('rejects a package truncated to %i bytes', async (cut, pattern) => {
    const deb = join(sandbox, 'cut.deb');
    copyFileSync(fixtures.all!.xz!, deb);
    const size = lstatSync(deb).size;
    truncateSync(deb, cut > 0 ? cut : size + cut);
    await extractFails(deb, pattern);
    // Checked before anything is unpacked, and the target is not left behind.
    expect(existsSync(target)).toBe(false);
  });

  it('rejects a package whose first member is not debian-binary', async () => {
    const deb = await arOf(join(sandbox, 'order.deb'), [
      { name: 'control.tar.gz', data: await controlTarGz() },
      { name: 'debian-binary', data: '2.0\n' },
    ]);
    await extractFails(deb, /first member is 'control\.tar\.gz', not 'debian-binary'/);
  });

  it('rejects an unknown format version', async () => {
    const deb = await arOf(join(sandbox, 'v3.deb'), [
      { name: 'debian-binary', data: '3.0\n' },
      { name: 'control.tar.gz', data: await controlTarGz() },
      { name: 'data.tar.gz', data: gzipSync(await tarOf([])) },
    ]);
    await extractFails(deb, /unsupported Debian package format '3\.0'/);
  });

  it('rejects data before control, unknown members and missing members', async () => {
    const data = gzipSync(await tarOf([{ name: './', type: 'directory' }]));
    const before = await arOf(join(sandbox, 'before.deb'), [
      { name: 'debian-binary', data: '2.0\n' },
      { name: 'data.tar.gz', data },
      { name: 'control.tar.gz', data: await controlTarGz() },
    ]);
    await extractFails(before, /'data\.tar\.gz' comes before the control member/);
    const unknown = await arOf(join(sandbox, 'unknown.deb'), [
      { name: 'debian-binary', data: '2.0\n' },
      { name: 'control.tar.gz', data: await controlTarGz() },
      { name: 'surprise', data: 'x' },
      { name: 'data.tar.gz', data },
    ]);
    await extractFails(unknown, /unexpected member 'surprise' before 'data\.tar'/);
    const missing = await arOf(join(sandbox, 'missing.deb'), [
      { name: 'debian-binary', data: '2.0\n' },
      { name: 'control.tar.gz', data: await controlTarGz() },
    ]);
    await extractFails(missing, /missing member 'data\.tar'/);
  });

  it('ignores whatever follows the data member, as dpkg does', async () => {
    const deb = join(sandbox, 'trailing.deb');
    copyFileSync(fixtures.minimal!.xz!, deb);
    writeFileSync(deb, Buffer.concat([readFileSync(deb), Buffer.from('trailing garbage, odd length')]));
    const r = await deblayer(['deb', 'extract', deb, target]);
    expect(r.stderr).toMatch(/^Unpacked/);
    expect(r.exitCode).toBe(0);
  });

  it('rejects an empty data member like dpkg-deb', async () => {
    const deb = await arOf(join(sandbox, 'emptydata.deb'), [
      { name: 'debian-binary', data: '2.0\n' },
      { name: 'control.tar.gz', data: await controlTarGz() },
      { name: 'data.tar', data: '' },
    ]);
    await extractFails(deb, /member 'data\.tar' is empty, not a tar archive/);
  });

  it('names the file and member when xz finds corrupt data', async () => {
    const deb = join(sandbox, 'badxz.deb');
    const good = readFileSync(fixtures.minimal!.xz!);
    // Corrupt the middle of data.tar.xz, the last member, keeping ar sizes intact.
    const at = good.lastIndexOf(Buffer.from('data.tar.xz')) + 60 + 40;
    good.fill(0x41, at, at + 16);
    writeFileSync(deb, good);
    await extractFails(deb, /corrupt member 'data\.tar\.xz' \(xz\): /);
  });

  it('refuses a control archive too large to be metadata', async () => {
    const big = gzipSync(await tarOf([
      { name: './control', data: 'Package: big\nVersion: 1\n' },
      ...Array.from({ length: 3 }, (_, i) => ({ name: `./junk${i}`, data: 'x'.repeat(30 * 1024 * 1024) })),
    ]));
    const deb = await arOf(join(sandbox, 'bigcontrol.deb'), [
      { name: 'debian-binary', data: '2.0\n' },
      { name: 'control.tar.gz', data: big },
      { name: 'data.tar.gz', data: gzipSync(await tarOf([])) },
    ]);
    const r = await deblayer(['deb', 'info', deb]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/control archive is implausibly large/);
  });

  it('refuses a package name that is not one, before it reaches a path', async () => {
    const evil = 'Package: ../../../../../../tmp/deblayer-evil\nVersion: 1\nArchitecture: all\n';
    const deb = await arOf(join(sandbox, 'evilname.deb'), [
      { name: 'debian-binary', data: '2.0\n' },
      { name: 'control.tar.gz', data: await controlTarGz(evil) },
      { name: 'data.tar.gz', data: gzipSync(await tarOf([{ name: './var/lib/evil/', type: 'directory' }])) },
    ]);
    await extractFails(deb, /invalid package name '\.\.\/\.\.\//, ['--layer']);
    expect(existsSync('/tmp/deblayer-evil.conf')).toBe(false);
  });

  it('skips optional _members as dpkg does', async () => {
    const deb = await arOf(join(sandbox, 'underscore.deb'), [
      { name: 'debian-binary', data: '2.0\n' },
      { name: '_gpgorigin', data: 'signature' },
      { name: 'control.tar.gz', data: await controlTarGz() },
      { name: 'data.tar.gz', data: gzipSync(await tarOf([{ name: './ok', data: 'fine\n' }])) },
    ]);
    const r = await deblayer(['deb', 'extract', deb, target]);
    expect(r.exitCode).toBe(0);
    expect(readFileSync(join(target, 'ok'), 'utf8')).toBe('fine\n');
  });

  it('names an unreadable compression', async () => {
    const deb = await arOf(join(sandbox, 'bz2.deb'), [
      { name: 'debian-binary', data: '2.0\n' },
      { name: 'control.tar.gz', data: await controlTarGz() },
      { name: 'data.tar.bz2', data: 'BZh9' },
    ]);
    await extractFails(deb, /member 'data\.tar\.bz2' uses a compression deblayer cannot read \('\.bz2'\)/);
  });

  it('reports corrupt compressed data', async () => {
    const good = gzipSync(await tarOf([{ name: './a', data: 'x'.repeat(5000) }]));
    good.fill(0x55, 40, 60);
    const deb = await arOf(join(sandbox, 'corrupt.deb'), [
      { name: 'debian-binary', data: '2.0\n' },
      { name: 'control.tar.gz', data: await controlTarGz() },
      { name: 'data.tar.gz', data: good },
    ]);
    await extractFails(deb, /corrupt member 'data\.tar\.gz' \(gzip\)/);
  });

  it('reports a tar stream cut short inside its member', async () => {
    const tarData = await tarOf([{ name: './big', data: 'y'.repeat(4000) }]);
    const deb = await arOf(join(sandbox, 'shorttar.deb'), [
      { name: 'debian-binary', data: '2.0\n' },
      { name: 'control.tar.gz', data: await controlTarGz() },
      { name: 'data.tar', data: tarData.subarray(0, 2048) },
    ]);
    await extractFails(deb, /corrupt member 'data\.tar' \(none\)/);
  });

  it('reports a control archive without a control file', async () => {
    const deb = await arOf(join(sandbox, 'nocontrol.deb'), [
      { name: 'debian-binary', data: '2.0\n' },
      { name: 'control.tar.gz', data: gzipSync(await tarOf([{ name: './md5sums', data: '' }])) },
      { name: 'data.tar.gz', data: gzipSync(await tarOf([])) },
    ]);
    const r = await deblayer(['deb', 'info', deb]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr.trim()).toBe(`deblayer: error: ${deb}: control archive has no 'control' file`);
  });
});

describe('hostile paths', () => {
  it("refuses '..' entries", async () => {
    const deb = await debWithData(join(sandbox, 'dotdot.deb'), [
      { name: './', type: 'directory' },
      { name: './../outside/victim', data: 'owned\n' },
    ]);
    await extractFails(deb, /refusing entry '\.\/\.\.\/outside\/victim': path contains '\.\.'/);
  });

  it('refuses absolute paths', async () => {
    const deb = await debWithData(join(sandbox, 'abs.deb'), [{ name: `${outside}/victim`, data: 'owned\n' }]);
    await extractFails(deb, /absolute path/);
  });

  it('refuses to write through a symlink to / or outside', async () => {
    const deb = await debWithData(join(sandbox, 'escape.deb'), [
      { name: './escape', type: 'symlink', linkname: outside },
      { name: './escape/victim', data: 'owned\n' },
    ]);
    await extractFails(deb, /refusing entry 'escape\/victim': it would be written through the symlink 'escape'/);
    const root = await debWithData(join(sandbox, 'root.deb'), [
      { name: './rootlink', type: 'symlink', linkname: '/' },
      { name: `./rootlink${outside}/victim`, data: 'owned\n' },
    ]);
    await extractFails(root, /through the symlink 'rootlink'/);
    const up = await debWithData(join(sandbox, 'up.deb'), [
      { name: './up', type: 'symlink', linkname: '..' },
      { name: './up/outside/victim', data: 'owned\n' },
    ]);
    await extractFails(up, /through the symlink 'up'/);
  });

  it('refuses a directory entry over a symlink the archive made', async () => {
    const deb = await debWithData(join(sandbox, 'dirover.deb'), [
      { name: './d', type: 'symlink', linkname: outside },
      { name: './d/', type: 'directory' },
      { name: './d/victim', data: 'owned\n' },
    ]);
    await extractFails(deb, /refusing entry 'd'/);
  });

  it('refuses hardlinks that leave the tree or name no earlier entry', async () => {
    const dotdot = await debWithData(join(sandbox, 'hl1.deb'), [{ name: './hl', type: 'link', linkname: '../outside/victim' }]);
    await extractFails(dotdot, /path contains '\.\.'/);
    const abs = await debWithData(join(sandbox, 'hl2.deb'), [{ name: './hl', type: 'link', linkname: `${outside}/victim` }]);
    await extractFails(abs, /absolute path/);
    const missing = await debWithData(join(sandbox, 'hl3.deb'), [{ name: './hl', type: 'link', linkname: './nowhere' }]);
    await extractFails(missing, /hardlink to 'nowhere', which is not an earlier entry/);
  });

  it('refuses a hardlink whose target path runs through a symlink', async () => {
    // link(2) follows every component but the last: ./x -> outside, then a
    // hardlink to x/victim would pull the outside file into the tree.
    const deb = await debWithData(join(sandbox, 'hlsym.deb'), [
      { name: './x', type: 'symlink', linkname: outside },
      { name: './h', type: 'link', linkname: './x/victim' },
    ]);
    await extractFails(deb, /refusing entry 'h': hardlink to 'x\/victim', which is not an earlier entry/);
    mkdirSync(target);
    symlinkSync(outside, join(target, 'pre'));
    const pre = await debWithData(join(sandbox, 'hlpre.deb'), [{ name: './h', type: 'link', linkname: './pre/victim' }]);
    await extractFails(pre, /hardlink to 'pre\/victim', which is not an earlier entry/);
    expect(existsSync(join(target, 'h'))).toBe(false);
  });

  it('replaces a symlink with a later file of the same name instead of following it', async () => {
    const deb = await debWithData(join(sandbox, 'replace.deb'), [
      { name: './a', type: 'symlink', linkname: join(outside, 'victim') },
      { name: './a', data: 'replaced\n' },
    ]);
    const r = await deblayer(['deb', 'extract', deb, target]);
    expect(r.exitCode).toBe(0);
    expect(lstatSync(join(target, 'a')).isFile()).toBe(true);
    expect(readFileSync(join(target, 'a'), 'utf8')).toBe('replaced\n');
    expectNothingOutside();
  });

  it('refuses to write through a symlink already in the target directory', async () => {
    mkdirSync(target);
    symlinkSync(outside, join(target, 'usr'));
    await extractFails(fixtures.all!.xz!, /refusing entry 'usr': a symlink is already at this path/);
    // A target that existed before is kept, with what was in it.
    expect(lstatSync(join(target, 'usr')).isSymbolicLink()).toBe(true);
  });

  it('gives the same refusals when unpacking as a layer', async () => {
    const deb = await debWithData(join(sandbox, 'escape-layer.deb'), [
      { name: './usr/', type: 'directory' },
      { name: './usr/escape', type: 'symlink', linkname: outside },
      { name: './usr/escape/victim', data: 'owned\n' },
    ]);
    await extractFails(deb, /through the symlink 'usr\/escape'/, ['--layer']);
  });
});
