// A one-line progress meter on stderr for long steps, only on a terminal and
// never with --quiet or --json: "Unpacking git: 1520 entries, 23.4 MB".

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
