// refresh-md: `apt-get update` with a base's private configuration.

import { DeblayerError, EXIT } from '../errors.js';
import { aptGet, aptMessages } from '../exec/apt.js';
import type { AptEnvironment } from './environment.js';
import { parseDownloadStatus, type DownloadProgress } from './fetch.js';

export class RepositoryError extends DeblayerError {
  constructor(message: string, options: { detail?: string } = {}) {
    super(message, { ...options, exitCode: EXIT.network });
  }
}

export interface RefreshResult {
  /** apt's "Get:"/"Hit:"/"Ign:" lines. */
  lines: string[];
  warnings: string[];
  fetched?: string;
}

export async function refreshMetadata(env: AptEnvironment, onProgress?: (line: string) => void, onDownload?: (p: DownloadProgress) => void): Promise<RefreshResult> {
  const lines: string[] = [];
  let fetched: string | undefined;
  const r = await aptGet(env.invocation, ['-o', 'APT::Status-Fd=1', 'update'], `cannot refresh the package lists of ${env.sources.origin}`, {
    allowFailure: true,
    onLine: (line) => {
      const fraction = parseDownloadStatus(line);
      if (fraction !== undefined) onDownload?.({ fraction, what: 'package lists' });
      else if (/^(Get|Hit|Ign|Err):/.test(line)) {
        lines.push(line);
        onProgress?.(line);
      } else if (line.startsWith('Fetched ')) {
        fetched = line;
        onProgress?.(line);
      }
    },
  });
  const errors = aptMessages(r.stderr + r.stdout, 'E');
  const warnings = aptMessages(r.stderr + r.stdout, 'W');
  // apt-get update exits 0 when an index could not be fetched ("W: Failed to fetch"),
  // and goes on with old lists or none: for deblayer that is a failed refresh.
  const failedFetch = warnings.filter((w) => /^Failed to fetch|Some index files failed to download/.test(w));
  if (r.exitCode !== 0 || errors.length > 0 || failedFetch.length > 0) {
    const first = errors[0] ?? failedFetch[0] ?? warnings[0] ?? `apt-get update exited with status ${r.exitCode}`;
    const unsigned = errors.some((e) => /is not signed|NO_PUBKEY|BADSIG|EXPKEYSIG|signatures were invalid|Signed-By/i.test(e)) ||
      warnings.some((w) => /NO_PUBKEY|BADSIG|signatures were invalid|not signed/i.test(w));
    throw new RepositoryError(
      `refresh-md failed: ${first}${unsigned ? ' (apt checks signatures; pass --allow-unauthenticated to use it anyway)' : ''}`,
      { detail: `command: apt-get ${r.command}\n${r.stdout}${r.stderr}` },
    );
  }
  env.markRefreshed();
  return { lines, warnings, ...(fetched ? { fetched } : {}) };
}

