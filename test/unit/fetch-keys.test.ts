// The fetch step's result keeps one file per package *and architecture*: a
// Multi-Arch plan (libc6:amd64 and libc6:i386) holds one name twice, and the
// import needs both files.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { fetchKey, fetchPlan } from '../../src/apt/fetch.js';
import type { AptEnvironment } from '../../src/apt/environment.js';
import { archiveFileName, type Plan, type PlannedPackage } from '../../src/apt/plan.js';

const dir = mkdtempSync(join(tmpdir(), 'deblayer-fetch-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('a plan with libc6 for two architectures gets both files, from the cache', async () => {
  const archives = join(dir, 'archives');
  mkdirSync(archives);
  const pkg = (architecture: string): PlannedPackage => ({
    name: 'libc6',
    version: '2.36-9+deb12u14',
    architecture,
    origin: 'Debian:12/oldstable',
    downloadSize: 1,
    installedSize: 1,
    reason: 'requested',
    source: { kind: 'archive', filename: `pool/main/g/glibc/libc6_2.36-9+deb12u14_${architecture}.deb` },
  });
  const packages = [pkg('amd64'), pkg('i386')];
  for (const p of packages) writeFileSync(join(archives, archiveFileName(p)), p.architecture);
  const plan: Plan = { base: { label: 'b', commit: 'c' }, requested: ['libc6'], inactive: [], packages, downloadSize: 2, installedSize: 2 };
  const env = { archivesDir: archives } as unknown as AptEnvironment;
  const result = await fetchPlan(env, plan, { cacheOnly: true });
  expect(result.files.size).toBe(2);
  expect(result.files.get(fetchKey(packages[0]!))).toBe(join(archives, 'libc6_2.36-9+deb12u14_amd64.deb'));
  expect(result.files.get(fetchKey(packages[1]!))).toBe(join(archives, 'libc6_2.36-9+deb12u14_i386.deb'));
});
