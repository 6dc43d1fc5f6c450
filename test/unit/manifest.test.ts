// Layer manifests (layers/*.layer): what they give, and refusals that name the
// file and the line.

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { EXIT } from '../../src/errors.js';
import { parseManifest, readManifest } from '../../src/manifest/manifest.js';

const layers = fileURLToPath(new URL('../../layers', import.meta.url));

function refusal(text: string): { message: string; exitCode: number } {
  try {
    parseManifest(text, '/srv/layers/x.layer', 'x.layer');
  } catch (err) {
    return { message: (err as Error).message, exitCode: (err as { exitCode: number }).exitCode };
  }
  throw new Error('the manifest was accepted');
}

describe('layer manifests', () => {
  test('the shipped examples read, and web-tools stacks on web', () => {
    const names = readdirSync(layers).filter((f) => f.endsWith('.layer')).sort();
    expect(names).toEqual(['web-tools.layer', 'web.layer']);
    const web = readManifest(join(layers, 'web.layer'));
    expect(web).toMatchObject({ base: { kind: 'ref', ref: 'debian/12' }, branch: 'layers/web', packages: ['nginx-light'], metadata: { Version: '1' } });
    expect(web.digest).toMatch(/^[0-9a-f]{64}$/);
    const tools = readManifest(join(layers, 'web-tools.layer'));
    expect(tools.base).toEqual({ kind: 'manifest', path: join(layers, 'web.layer') });
    expect(tools.packages).toEqual(['curl', 'htop']);
  });

  test('lists are comma-separated, on one line or folded; local files and sources are relative to the manifest', () => {
    const m = parseManifest(
      [
        'Base: 0123abcd',
        'Branch: layers/app',
        'Packages: htop, strace=6.1-0.1,',
        ' vim:amd64,',
        '  debs/page_1.0_all.deb',
        '# a comment between fields',
        'Sources: app.sources',
        'skip-scripts: vim',
        'Metadata-org.example.build: 42',
        'Description: an app',
        ' over two lines',
        '',
      ].join('\n'),
      '/srv/layers/app.layer',
    );
    expect(m).toMatchObject({
      base: { kind: 'ref', ref: '0123abcd' },
      packages: ['htop', 'strace=6.1-0.1', 'vim:amd64'],
      localFiles: ['/srv/layers/debs/page_1.0_all.deb'],
      sources: ['/srv/layers/app.sources'],
      skipScripts: ['vim'],
      metadata: { 'org.example.build': '42' },
      description: 'an app\nover two lines',
    });
  });

  test('the same bytes give the same digest, another byte another', () => {
    const a = parseManifest('Base: debian/12\nBranch: b\n', '/a.layer');
    expect(parseManifest('Base: debian/12\nBranch: b\n', '/b.layer').digest).toBe(a.digest);
    expect(parseManifest('Base: debian/12\nBranch: b \n', '/a.layer').digest).not.toBe(a.digest);
  });

  test.each([
    ['Base: debian/12\nBranch: b\nPakages: htop\n', /^x\.layer:3: unknown field 'Pakages'/],
    ['Base: debian/12\nBranch: b\nBranch: c\n', /^x\.layer:3: 'Branch' given twice \(first on line 2\)/],
    ['Base: debian/12\n', /^x\.layer:1: no Branch field/],
    ['Base: debian/12\nBranch: b\nPackages: htop, Not_A_Name\n', /^x\.layer:3: 'Not_A_Name' is not a package name/],
    ['Base: debian/12\nBranch: not a ref\n', /^x\.layer:2: Branch 'not a ref' is not an ostree ref/],
    ['Base: debian/12\nBranch: b\n\nPackages: htop\n', /^x\.layer:4: a second paragraph/],
    ['Base: debian/12\nthis line is wrong\nBranch: b\n', /^x\.layer:2: 'this line is wrong' is not a field/],
    ['# only a comment\n', /^x\.layer:1: no fields/],
  ])('refuses %j with a usage error naming the file and line', (text, message) => {
    const r = refusal(text);
    expect(r.message).toMatch(message);
    expect(r.exitCode).toBe(EXIT.usage);
  });

  test('a manifest that cannot be read is named', () => {
    expect(() => readManifest('/nonexistent/x.layer')).toThrow(/^\/nonexistent\/x\.layer: cannot read the layer manifest: ENOENT/);
  });
});
