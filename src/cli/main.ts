#!/usr/bin/env node
// deblayer's entry point: the process around the command line (program.ts),
// how it ends, `deblayer --version` answered before the rest is loaded, and
// libapt started for install and uninstall before it is.

import { VERSION } from './version.js';

// If the event loop ever drained with work unfinished (a stalled stream), Node
// would exit 0 with a partial result: make that a loud internal error instead.
let settled = false;
process.on('exit', () => {
  if (!settled) {
    process.stderr.write('deblayer: internal error: stopped before finishing (stalled stream)\n');
    process.exitCode = 70;
  }
});

// `deblayer deb contents x.deb | head`: a closed pipe ends the listing, quietly.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  settled = true;
  if (err.code === 'EPIPE') process.exit(0);
  process.stderr.write(`deblayer: error: cannot write output: ${err.message}\n`);
  process.exit(1);
});

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  // What commander prints for it, without loading commander and every command's options first.
  settled = true;
  process.stdout.write(`${VERSION}\n`);
} else {
  // install and uninstall: apt's cache starts opening while the rest loads (src/apt/ahead.ts).
  const resolving = args.includes('install') || args.includes('uninstall');
  const ahead = resolving ? import('../apt/ahead.js').then(({ startResolverAhead }) => startResolverAhead(args)).catch(() => {}) : Promise.resolve();
  ahead.then(() => import('./program.js')).then(({ main }) => main(process.argv)).then(
    (code) => {
      settled = true;
      process.exitCode = code;
    },
    (err: unknown) => {
      settled = true;
      process.stderr.write(`deblayer: internal error: ${String(err)}\n`);
      process.exitCode = 70;
    },
  );
}
