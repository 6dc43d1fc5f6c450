// Unpacking streams: peak memory must not grow with the size of the package.
// Measured with GNU time on the real CLI, a small and a large package built
// the same way, in xz (Debian) and zstd (Ubuntu).

import { execa } from 'execa';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI } from './helpers/cli.js';

const work = mkdtempSync(join(tmpdir(), 'deblayer-stream-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// RANDOM MB of random bytes: 4 make an xz member too large for the liblzma helper (xz(1) decodes it), 1 one it decodes.
async function bigDeb(mb: number, comp: 'xz' | 'zstd', random = 4): Promise<string> {
  const stage = join(work, `stage-${mb}-${comp}-${random}`);
  mkdirSync(join(stage, 'DEBIAN'), { recursive: true });
  mkdirSync(join(stage, 'usr/share/big'), { recursive: true });
  await execa('sh', [
    '-c',
    `printf 'Package: big\\nVersion: ${mb}\\nArchitecture: all\\nMaintainer: t <t@t.invalid>\\nDescription: big\\n' > DEBIAN/control
     head -c ${mb}M /dev/zero > usr/share/big/zeros
     head -c ${random}M /dev/urandom > usr/share/big/random`,
  ], { cwd: stage });
  const deb = join(work, `big-${mb}-${random}.${comp}.deb`);
  await execa('dpkg-deb', [`-Z${comp}`, '-z1', '--build', stage, deb]);
  rmSync(stage, { recursive: true, force: true });
  return deb;
}

/** Peak resident memory (KiB) of `deblayer deb extract`. */
async function peakRss(deb: string, layer: boolean): Promise<number> {
  const out = join(work, 'out');
  rmSync(out, { recursive: true, force: true });
  const r = await execa('/usr/bin/time', ['-f', '%M', 'node', CLI, '-q', 'deb', 'extract', ...(layer ? ['--layer'] : []), deb, out]);
  const size = statSync(join(out, 'usr/share/big/zeros')).size;
  rmSync(out, { recursive: true, force: true });
  expect(size).toBeGreaterThan(0);
  return Number(r.stderr.trim().split('\n').pop());
}

describe('streaming', () => {
  it.each(['xz', 'zstd'] as const)('memory stays flat from 16 MB to 512 MB of %s content', async (comp) => {
    const small = await bigDeb(16, comp);
    const large = await bigDeb(512, comp);
    const a = await peakRss(small, false);
    const b = await peakRss(large, false);
    const c = await peakRss(large, true);
    // Node itself takes 50-100 MB; 32x more content may cost only noise on top.
    expect(b - a).toBeLessThan(40 * 1024);
    expect(c - a).toBeLessThan(40 * 1024);
    expect(b).toBeLessThan(200 * 1024);
  });

  // The package import sends small xz members to the liblzma helpers (src/exec/lzma.ts):
  // the library as the import uses it, the helper's memory counted with Node's.
  it('memory stays flat from 16 MB to 512 MB of xz content decoded by the liblzma helpers', async () => {
    const [small, large] = [await bigDeb(16, 'xz', 1), await bigDeb(512, 'xz', 1)];
    expect(Number((await execa('sh', ['-c', `ar p ${large} data.tar.xz | wc -c`])).stdout)).toBeLessThan(4 * 1024 * 1024);
    const dist = new URL('../dist/', import.meta.url).pathname;
    const unpack = `
      const { openDeb, useLzmaHelpers } = await import('${dist}deb/index.js');
      const { unpackRaw } = await import('${dist}compose/unpack.js');
      useLzmaHelpers();
      const stats = await unpackRaw(openDeb(process.argv[1]), process.argv[2]);
      if (stats.bytes < 16 * 1024 * 1024) throw new Error('unpacked only ' + stats.bytes);`;
    const peak = async (deb: string) => {
      const out = join(work, 'out');
      rmSync(out, { recursive: true, force: true });
      const r = await execa('/usr/bin/time', ['-f', '%M', 'node', '--input-type=module', '-e', unpack, deb, out]);
      rmSync(out, { recursive: true, force: true });
      return Number(r.stderr.trim().split('\n').pop());
    };
    const a = await peak(small);
    const b = await peak(large);
    expect(b - a).toBeLessThan(40 * 1024);
    expect(b).toBeLessThan(200 * 1024);
  });
});
