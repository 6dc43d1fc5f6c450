// The exit statuses the man page and the README list are the ones the CLI uses.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../../src/errors.js';

const PAGE = new URL('../../man/deblayer.8', import.meta.url).pathname;

describe('man/deblayer.8', () => {
  it('lists the exit statuses the CLI uses, as the README does: one list', () => {
    const page = readFileSync(PAGE, 'utf8');
    const section = page.slice(page.indexOf('.SH EXIT STATUS'), page.indexOf('.SH', page.indexOf('.SH EXIT STATUS') + 1));
    const inPage = [...section.matchAll(/^\.B (\d+)$/gm)].map((m) => Number(m[1])).sort((a, b) => a - b);
    const codes = [0, ...Object.values(EXIT)].sort((a, b) => a - b);
    expect(inPage).toEqual(codes);
    const readme = readFileSync(new URL('../../README.md', import.meta.url).pathname, 'utf8');
    const table = readme.slice(readme.indexOf('Exit statuses'), readme.indexOf('### The layer rewrite'));
    const inReadme = [...table.matchAll(/(?:^|\s{2,})(\d{1,2}) {2,}\S/gm)].map((m) => Number(m[1])).sort((a, b) => a - b);
    expect(inReadme).toEqual(codes);
    expect(readme).not.toMatch(/exit status 1\s+\(2 for usage errors\)/);
  });
});
