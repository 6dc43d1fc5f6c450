// deblayer's python programs (python/) as source: pyflakes finds nothing in
// them and every one byte-compiles, so that a mistake shows here rather than
// half-way through a transaction; and the programs the TypeScript side names
// are there, with no python left in its strings.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';

// Debian's python3, as src/exec/python.ts runs them (python3-pyflakes is Debian's too).
const PYTHON = '/usr/bin/python3';
const root = fileURLToPath(new URL('..', import.meta.url));
const pythonDir = join(root, 'python');

function files(dir: string, suffix: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith(suffix))
    .map((f) => join(dir, f))
    .sort();
}

describe('the python programs', () => {
  test('pyflakes finds nothing', () => {
    const r = spawnSync(PYTHON, ['-m', 'pyflakes', pythonDir], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  test('every one byte-compiles, without leaving __pycache__ in the tree', () => {
    const cache = mkdtempSync(join(tmpdir(), 'deblayer-pycache-'));
    try {
      const r = spawnSync(PYTHON, ['-m', 'compileall', '-q', '-f', pythonDir], { encoding: 'utf8', env: { ...process.env, PYTHONPYCACHEPREFIX: cache } });
      expect(r.stdout + r.stderr).toBe('');
      expect(r.status).toBe(0);
      const sources = files(pythonDir, '.py');
      expect(sources.length).toBeGreaterThan(0);
      expect(files(cache, '.pyc')).toHaveLength(sources.length);
      expect(readdirSync(pythonDir, { recursive: true, encoding: 'utf8' }).filter((f) => f.includes('__pycache__'))).toEqual([]);
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });

  test('every program the TypeScript side names is a file of python/', () => {
    const named: string[] = [];
    for (const file of files(join(root, 'src'), '.ts')) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/(?:startPython|spawnPython|startPythonChannel)\('([^']+)'/g)) named.push(m[1]!);
      for (const m of text.matchAll(/runProgram\('([^']+)'/g)) named.push(`ostree_ops/${m[1]!}.py`);
    }
    // The three ways of starting one, and the worker's programs.
    expect(named).toContain('worker.py');
    expect(named).toContain('lzma_decode.py');
    expect(named).toContain('apt_resolve.py');
    expect(named).toContain('ostree_ops/commit_layer.py');
    const present = new Set(files(pythonDir, '.py').map((f) => relative(pythonDir, f)));
    expect(named.filter((n) => !present.has(n))).toEqual([]);
  });

  test('no python source is left in TypeScript strings', () => {
    // Lines that only python writes: `import os, sys`, `from x import y`, `def f(...):`.
    const pythonLine = /^\s*(?:import [a-z_]+(?:, [a-z_]+)*|from [\w.]+ import [\w, ]+|def \w+\(.*\):)\s*$/m;
    const offenders = files(join(root, 'src'), '.ts').filter((f) => pythonLine.test(readFileSync(f, 'utf8')));
    expect(offenders.map((f) => relative(root, f))).toEqual([]);
  });
});
