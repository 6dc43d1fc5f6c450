// Builds the fixture packages from their sources in fixtures/debs at test time,
// with the real dpkg-deb: DEBIAN/ is copied, tree.sh populates the tree (as root:
// owners, setuid bits, device nodes), md5sums are generated as dh_md5sums would.

import { execa } from 'execa';
import { chmodSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const FIXTURE_SOURCES = new URL('../../fixtures/debs/', import.meta.url).pathname;
export const COMPRESSIONS = ['xz', 'gzip', 'zstd', 'none'] as const;
export type FixtureCompression = (typeof COMPRESSIONS)[number];

/** name -> compression -> path of the built .deb */
export type FixtureSet = Record<string, Partial<Record<FixtureCompression, string>>>;

const SCRIPTS = ['preinst', 'postinst', 'prerm', 'postrm', 'config'];

async function md5sums(root: string): Promise<string> {
  const { stdout } = await execa('sh', ['-c', "find . -path ./DEBIAN -prune -o -type f -printf '%P\\0' | LC_ALL=C sort -z | xargs -0r md5sum --"], {
    cwd: root,
  });
  return stdout ? stdout + '\n' : '';
}

export async function buildFixture(name: string, outDir: string, compressions: readonly FixtureCompression[]): Promise<Partial<Record<FixtureCompression, string>>> {
  const src = join(FIXTURE_SOURCES, name);
  const stage = mkdtempSync(join(tmpdir(), `deblayer-stage-${name}-`));
  try {
    cpSync(join(src, 'DEBIAN'), join(stage, 'DEBIAN'), { recursive: true });
    for (const s of SCRIPTS) if (existsSync(join(stage, 'DEBIAN', s))) chmodSync(join(stage, 'DEBIAN', s), 0o755);
    await execa('sh', [join(src, 'tree.sh')], { cwd: stage });
    if (!existsSync(join(src, 'no-md5sums'))) {
      const sums = await md5sums(stage);
      if (sums) writeFileSync(join(stage, 'DEBIAN', 'md5sums'), sums);
    }
    const control = readFileSync(join(stage, 'DEBIAN', 'control'), 'utf8');
    const pkg = /^Package: (.+)$/m.exec(control)![1];
    const out: Partial<Record<FixtureCompression, string>> = {};
    for (const comp of compressions) {
      const deb = join(outDir, `${pkg}.${comp}.deb`);
      await execa('dpkg-deb', [`-Z${comp}`, '--build', stage, deb], { env: { LC_ALL: 'C' } });
      out[comp] = deb;
    }
    return out;
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

export async function buildAllFixtures(outDir: string): Promise<FixtureSet> {
  const set: FixtureSet = {};
  for (const name of readdirSync(FIXTURE_SOURCES).sort()) {
    set[name] = await buildFixture(name, outDir, name === 'all' ? COMPRESSIONS : ['xz']);
  }
  return set;
}
