// data.tar members written by GNU tar in PAX and ustar formats (dpkg-deb
// writes GNU format): long names via PAX headers and the ustar prefix field
// must unpack exactly as dpkg-deb -x unpacks them.

import { execa } from 'execa';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { arOf, controlTarGz } from './helpers/craft.js';
import { expectSameAsDpkg } from './helpers/compare.js';

const work = mkdtempSync(join(tmpdir(), 'deblayer-tarfmt-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function debFromTree(format: 'pax' | 'ustar' | 'gnu', compress: 'xz' | 'zstd' | 'gzip'): Promise<string> {
  const tree = join(work, `tree-${format}`);
  rmSync(tree, { recursive: true, force: true });
  const long = `usr/share/${'p'.repeat(90)}/${'q'.repeat(60)}`;
  mkdirSync(join(tree, long), { recursive: true });
  writeFileSync(join(tree, long, 'file'), 'long\n');
  writeFileSync(join(tree, 'usr/share/ünïcödé'), 'u\n');
  // ustar has no long link names: its links point at a short path instead.
  const linked = format === 'ustar' ? 'usr/share/ünïcödé' : `${long}/file`;
  await execa('ln', ['-s', `/${linked}`, join(tree, 'usr/share/longlink')]);
  await execa('ln', [join(tree, linked), join(tree, 'usr/share/hard')]);
  await execa('touch', ['-h', '-d', '@1600000000.5', join(tree, 'usr/share/hard')]);
  // Before 1970: only PAX (and GNU's base-256) can record it.
  if (format !== 'ustar') await execa('touch', ['-h', '-d', '@-315619200', join(tree, 'usr/share/ünïcödé')]);
  const tarFile = join(work, `data-${format}.tar`);
  await execa('tar', [`--format=${format}`, '-cf', tarFile, '-C', tree, '.']);
  const ext = { xz: 'xz', zstd: 'zst', gzip: 'gz' }[compress];
  const tool = { xz: ['xz', '-kf'], zstd: ['zstd', '-qf'], gzip: ['gzip', '-kf'] }[compress];
  await execa(tool[0]!, [...tool.slice(1), tarFile]);
  return arOf(join(work, `${format}-${compress}.deb`), [
    { name: 'debian-binary', data: '2.0\n' },
    { name: 'control.tar.gz', data: await controlTarGz() },
    { name: `data.tar.${ext}`, data: readFileSync(`${tarFile}.${ext}`) },
  ]);
}

describe('tar formats', () => {
  it.each([
    ['pax', 'xz'],
    ['pax', 'zstd'],
    ['ustar', 'gzip'],
    ['gnu', 'zstd'],
  ] as const)('%s data.tar (%s) unpacks as dpkg-deb -x unpacks it', async (format, compress) => {
    const deb = await debFromTree(format, compress);
    const dir = join(work, `out-${format}-${compress}`);
    mkdirSync(dir);
    expect(await expectSameAsDpkg(deb, dir)).toBeGreaterThan(5);
  });
});
