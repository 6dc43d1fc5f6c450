// deblayer's version, from its package.json (dist/cli/, and dist/bundle/ where
// this module is bundled, are two levels below it in the tree and in the
// Debian package alike).

import { readFileSync } from 'node:fs';

export const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
