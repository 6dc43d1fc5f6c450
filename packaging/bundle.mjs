#!/usr/bin/env node
// `node packaging/bundle.mjs DIST`: the program tsc compiled into DIST, bundled
// by esbuild into DIST/bundle/ (main.js and the chunks its lazy imports load),
// which is what runs: the build's, the tests' and the Debian package's
// deblayer. Node loads an ES module with a read, a resolution and a compile
// of each file, and one transaction loaded a hundred of them while libapt
// wanted the other core; a command now loads a few chunks.
//
// The chunks sit two levels below the tree's root, as dist/cli/main.js did,
// so that paths taken from import.meta.url (python/, package.json) hold. The
// native modules (better-sqlite3, zstd-napi) stay in node_modules; the
// CommonJS ones are bundled, and get a `require` of their own for Node's
// built-in modules.

import { build } from 'esbuild';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const PROJECT = new URL('..', import.meta.url).pathname;

/**
 * Bundles DIST/cli/main.js into OUTDIR (DIST/bundle), with the project's
 * node_modules wherever DIST is; returns the paths of the packages bundled in
 * (node_modules/NAME, as package-lock.json names them).
 */
export async function bundle(dist, outdir = join(dist, 'bundle')) {
  const result = await build({
    absWorkingDir: PROJECT,
    nodePaths: [join(PROJECT, 'node_modules')],
    entryPoints: [join(dist, 'cli/main.js')],
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: ['better-sqlite3', 'zstd-napi'],
    banner: { js: 'import { createRequire as __deblayerRequire } from "node:module"; const require = __deblayerRequire(import.meta.url);' },
    metafile: true,
    logLevel: 'warning',
  });
  const packages = new Set();
  for (const input of Object.keys(result.metafile.inputs)) {
    const m = /^((?:node_modules\/(?:@[^/]+\/)?[^/]+\/)+)/.exec(input);
    if (m) packages.add(m[1].replace(/\/$/, ''));
  }
  return [...packages].sort();
}

if (import.meta.url === pathToFileURL(resolve(process.argv[1] ?? '')).href) await bundle(resolve(process.argv[2] ?? 'dist'));
