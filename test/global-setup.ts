// Builds every fixture package once per test run, into a temporary directory
// that is removed afterwards; tests find it with inject('fixtures').

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { execa } from 'execa';
import { buildAllFixtures, type FixtureSet } from './helpers/fixtures.js';

declare module 'vitest' {
  export interface ProvidedContext {
    fixtures: FixtureSet;
    fixturesDir: string;
    realDebs: string[];
    /** Tarball of a debootstrapped bookworm minbase with systemd-sysv (test/make-real-base.sh). */
    realBase: string;
    /** The same of trixie, Debian's stable release, what new hosts run. */
    realBaseTrixie: string;
    /** A bookworm base that boots (kernel, dracut initramfs with ostree), test/make-boot-base.sh. */
    bootBase: string;
    /** A trixie base that boots and holds deblayer's dependencies, for a guest that runs deblayer. */
    bootBaseTrixieGuest: string;
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  const dir = mkdtempSync(join(tmpdir(), 'deblayer-fixtures-'));
  project.provide('fixtures', await buildAllFixtures(dir));
  project.provide('fixturesDir', dir);
  // Real packages from the Debian archive, downloaded once into a reused cache.
  const fetch = await execa('sh', [new URL('./fetch-real-debs.sh', import.meta.url).pathname], { stderr: 'inherit' });
  project.provide('realDebs', fetch.stdout.trim().split('\n'));
  // A real Debian base, debootstrapped once into a reused cache (CI builds it fresh).
  const base = await execa('sh', [new URL('./make-real-base.sh', import.meta.url).pathname], { stderr: 'inherit' });
  project.provide('realBase', base.stdout.trim());
  const trixie = await execa('sh', [new URL('./make-real-base.sh', import.meta.url).pathname, 'trixie'], { stderr: 'inherit' });
  project.provide('realBaseTrixie', trixie.stdout.trim());
  // Bootable bases for the boot tests, made with mmdebstrap once into the same cache.
  const bootBase = new URL('./make-boot-base.sh', import.meta.url).pathname;
  project.provide('bootBase', (await execa('sh', [bootBase, 'bookworm'], { stderr: 'inherit' })).stdout.trim());
  project.provide('bootBaseTrixieGuest', (await execa('sh', [bootBase, 'trixie', 'guest'], { stderr: 'inherit' })).stdout.trim());
  return () => rmSync(dir, { recursive: true, force: true });
}
