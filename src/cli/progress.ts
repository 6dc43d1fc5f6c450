// A one-line progress meter on stderr for long steps, only on a terminal and
// never with --quiet or --json: "Unpacking git: 1520 entries, 23.4 MB".

import { aptSize } from '../apt/plan.js';
import type { DownloadProgress } from '../apt/fetch.js';
import type { Output } from './context.js';

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} kB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export class Progress {
  private readonly live: boolean;
  private last = 0;
  private shown = false;
  entries = 0;
  bytes = 0;

  constructor(
    out: Output,
    private readonly label: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.live = Boolean(stream.isTTY) && !out.options.quiet && !out.options.json && !out.options.verbose;
  }

  /** Count one entry; redraws at most five times a second. */
  tick(size: number): void {
    this.entries++;
    this.bytes += size;
    if (!this.live) return;
    const now = Date.now();
    if (now - this.last < 200) return;
    this.last = now;
    this.shown = true;
    this.stream.write(`\r\x1b[K${this.label}: ${this.entries} entries, ${formatSize(this.bytes)}`);
  }

  /** Clear the meter before the final summary line. */
  done(): void {
    if (this.shown) this.stream.write('\r\x1b[K');
  }
}

/**
 * A transaction's progress as apt shows its own: apt's lines (Get:, Fetched)
 * as they come and, on a terminal, a meter under them, "Downloading 3
 * packages: 45% of 8.4 MB, 2.3 MB/s", or a long stage's count ("Running
 * maintainer scripts and triggers: 5 of 30 (nginx)"), redrawn at most five
 * times a second and taken off before anything else is printed.
 */
export class StageMeter {
  private readonly live: boolean;
  private started = 0;
  private last = 0;
  private shown = false;

  constructor(
    private readonly out: Output,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.live = Boolean(stream.isTTY) && !out.options.quiet && !out.options.json && !out.options.verbose;
  }

  /** A line of apt's, printed above the meter. */
  readonly line = (text: string): void => {
    this.clear();
    this.out.info(text);
  };

  readonly update = (p: DownloadProgress): void => {
    if (!this.live) return;
    const now = Date.now();
    this.started ||= now;
    // The end is always drawn: small downloads are over within one redraw.
    if (p.fraction < 1 && now - this.last < 200) return;
    this.last = now;
    const seconds = (now - this.started) / 1000;
    const done = p.totalBytes === undefined ? undefined : p.fraction * p.totalBytes;
    const size = p.totalBytes === undefined ? '' : ` of ${aptSize(p.totalBytes)}`;
    const rate = done !== undefined && done > 0 && seconds > 0 ? `, ${aptSize(done / seconds)}/s` : '';
    this.stream.write(`\r\x1b[KDownloading ${p.what}: ${Math.floor(p.fraction * 100)}%${size}${rate}`);
    this.shown = true;
  };

  /** A long stage's count under its line: "Importing packages into the package cache: 12 of 30 (gdb)". */
  readonly count = (label: string, done: number, total: number, what?: string): void => {
    if (!this.live) return;
    const now = Date.now();
    if (done < total && now - this.last < 200) return;
    this.last = now;
    this.stream.write(`\r\x1b[K${label}: ${done} of ${total}${what ? ` (${what})` : ''}`);
    this.shown = true;
  };

  /** Takes the meter off the terminal (before a result, or an error). */
  readonly clear = (): void => {
    if (!this.shown) return;
    this.stream.write('\r\x1b[K');
    this.shown = false;
  };
}
