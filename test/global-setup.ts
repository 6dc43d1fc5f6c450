// Builds every fixture package once per test run, into a temporary directory
// that is removed afterwards; tests find it with inject('fixtures').

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { buildAllFixtures, type FixtureSet } from './helpers/fixtures.js';

declare module 'vitest' {
  export interface ProvidedContext {
    fixtures: FixtureSet;
    fixturesDir: string;
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  const dir = mkdtempSync(join(tmpdir(), 'deblayer-fixtures-'));
  project.provide('fixtures', await buildAllFixtures(dir));
  project.provide('fixturesDir', dir);
  return () => rmSync(dir, { recursive: true, force: true });
}
