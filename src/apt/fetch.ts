// Fetching a plan's .deb files: apt downloads them into the shared archive
// directory and checks their hashes against the signed lists; files already
// there are not fetched again. --cache-only never touches the network and says
// exactly which files are missing.

import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import { DeblayerError, EXIT } from '../errors.js';
import { aptGet, aptMessages } from '../exec/apt.js';
import type { AptEnvironment } from './environment.js';
import { archiveFileName, type Plan } from './plan.js';

export class FetchError extends DeblayerError {
  constructor(message: string, options: { detail?: string } = {}) {
    super(message, { ...options, exitCode: EXIT.network });
  }
}

export interface FetchResult {
  /** Path of each package's .deb (archive or local file), by fetchKey: NAME:ARCH, since Multi-Arch plans hold one name for two architectures. */
  files: Map<string, string>;
  downloaded: string[];
  cached: string[];
}

/** How far apt's downloads are (its APT::Status-Fd "dlstatus" lines). */
export interface DownloadProgress {
  /** 0 to 1, of the bytes apt expects. */
  fraction: number;
  /** What is being fetched, as the meter names it ("3 packages", "lists"). */
  what: string;
  /** The total in bytes, when known (the plan's sizes; not for lists). */
  totalBytes?: number;
}

/** apt's progress for fd 1 ("dlstatus:ITEM:PERCENT:TEXT"), or undefined for another line. */
export function parseDownloadStatus(line: string): number | undefined {
  const m = /^dlstatus:\d+:([\d.]+):/.exec(line);
  return m ? Math.min(1, Number(m[1]) / 100) : undefined;
}

/** The key of a package in FetchResult.files. */
export function fetchKey(p: { name: string; architecture: string }): string {
  return `${p.name}:${p.architecture}`;
}

async function sha256(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

export async function fetchPlan(
  env: AptEnvironment,
  plan: Plan,
  options: { cacheOnly?: boolean; onProgress?: (line: string) => void; onDownload?: (p: DownloadProgress) => void } = {},
): Promise<FetchResult> {
  const files = new Map<string, string>();
  const wanted = plan.packages.filter((p) => p.source.kind === 'archive');
  for (const p of plan.packages) {
    if (p.source.kind === 'local') files.set(fetchKey(p), p.source.path);
  }
  const pathOf = (p: (typeof wanted)[number]) => join(env.archivesDir, archiveFileName(p));
  const cached = wanted.filter((p) => existsSync(pathOf(p)));
  const missing = wanted.filter((p) => !existsSync(pathOf(p)));

  if (options.cacheOnly) {
    if (missing.length > 0) {
      throw new FetchError(
        `--cache-only: ${missing.length} package file${missing.length > 1 ? 's are' : ' is'} not in ${env.archivesDir}: ${missing.map(archiveFileName).join(', ')}`,
      );
    }
    for (const p of cached) {
      const expected = p.source.kind === 'archive' ? p.source.sha256 : undefined;
      if (expected && (await sha256(pathOf(p))) !== expected) {
        throw new FetchError(`--cache-only: ${pathOf(p)} does not match the SHA256 in the package lists (a damaged or stale download)`);
      }
    }
  } else if (missing.length > 0) {
    // `apt-get download` rather than `install --download-only`: it fetches exactly
    // these versions, and copies packages of file: sources too (install -d
    // leaves those where they are). apt checks each file against the lists' hashes.
    const specs = missing.map((p) => `${p.name}:${p.architecture}=${p.version}`);
    const what = `${missing.length} package${missing.length === 1 ? '' : 's'}`;
    const totalBytes = missing.reduce((sum, p) => sum + p.downloadSize, 0);
    // Status-Fd on stdout: apt's own measure of how far it is, for a meter.
    const r = await aptGet(env.invocation, ['-o', 'APT::Status-Fd=1', 'download', ...specs], 'cannot download packages', {
      cwd: env.archivesDir,
      allowFailure: true,
      onLine: (line) => {
        const fraction = parseDownloadStatus(line);
        if (fraction !== undefined) options.onDownload?.({ fraction, what, totalBytes });
        else if (/^(Get|Err):|^Fetched /.test(line)) options.onProgress?.(line);
      },
    });
    if (r.exitCode !== 0) {
      const errors = aptMessages(r.stderr + r.stdout, 'E');
      throw new FetchError(`download failed: ${errors[0] ?? `apt-get exited with status ${r.exitCode}`}`, {
        detail: `command: ${r.command}\n${r.stdout}${r.stderr}`,
      });
    }
    const still = missing.filter((p) => !existsSync(pathOf(p)));
    if (still.length > 0) throw new FetchError(`apt did not download ${still.map(archiveFileName).join(', ')}`);
  }
  for (const p of wanted) files.set(fetchKey(p), pathOf(p));
  return { files, downloaded: options.cacheOnly ? [] : missing.map((p) => p.name), cached: cached.map((p) => p.name) };
}
