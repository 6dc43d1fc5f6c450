// What deblayer reads from a commit never changes (a commit is immutable), so
// it is kept under CACHE/bases/COMMIT/: later commands then need no ostree
// call beyond naming the commit, where reading a base's metadata, dpkg
// status, os-release, sources and keys took an `ostree` run each.
// Best effort: a cache that cannot be written (not root, read-only) only costs time.

import { writeAtomically } from '../write-file.js';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export class CommitCache {
  /** CACHE/bases, or undefined for no caching. */
  constructor(readonly dir: string | undefined) {}

  private path(commit: string, name: string): string | undefined {
    return this.dir === undefined ? undefined : join(this.dir, commit, name);
  }

  async text(commit: string, name: string, compute: () => Promise<string>): Promise<string> {
    const path = this.path(commit, name);
    if (path) {
      try {
        return readFileSync(path, 'utf8');
      } catch {
        // not cached yet
      }
    }
    const value = await compute();
    if (path) {
      try {
        mkdirSync(join(this.dir!, commit), { recursive: true });
        writeAtomically(path, value);
      } catch {
        // best effort
      }
    }
    return value;
  }

  async json<T>(commit: string, name: string, compute: () => Promise<T>): Promise<T> {
    const text = await this.text(commit, `${name}.json`, async () => JSON.stringify(await compute(), replacer));
    return JSON.parse(text, reviver) as T;
  }
}

// Buffers (key files) and Maps survive the round trip.
function replacer(this: unknown, _key: string, value: unknown): unknown {
  if (value && typeof value === 'object' && (value as { type?: string }).type === 'Buffer' && Array.isArray((value as { data?: unknown }).data)) {
    return { $buffer: Buffer.from((value as { data: number[] }).data).toString('base64') };
  }
  if (value instanceof Map) return { $map: [...value] };
  return value;
}

function reviver(_key: string, value: unknown): unknown {
  if (value && typeof value === 'object') {
    if ('$buffer' in value) return Buffer.from((value as { $buffer: string }).$buffer, 'base64');
    if ('$map' in value) return new Map((value as { $map: [unknown, unknown][] }).$map);
  }
  return value;
}
