// deblayer publish DIR: the branches of --repo copied into an archive-mode
// repository that a web server serves to hosts, with deltas, summary and signatures.

import type { Command } from 'commander';
import { short } from '../exec/ostree.js';
import type { PublishedBranch } from '../transactions/publish.js';
import { contextOf, repoPath } from './context.js';
import { UNCHANGED_EXIT } from './install.js';

interface PublishCommandOptions {
  branch?: string[];
  gpgSign?: string[];
  gpgHomedir?: string;
  unchangedExit77?: boolean;
}

const repeatable = (value: string, previous: string[] = []) => [...previous, value];

export function register(program: Command): void {
  program
    .command('publish')
    .description('copy the branches of --repo into an archive-mode repository DIR for hosts to pull: new commits, static deltas, summary, signatures')
    .argument('<dir>', 'the archive-mode repository to publish into (made when missing or empty)')
    .option('--branch <ref>', 'publish this branch (repeatable; default: every branch but deblayer/ refs)', repeatable)
    .option('--gpg-sign <keyid>', 'sign the new commits and the summary with this GPG key (repeatable)', repeatable)
    .option('--gpg-homedir <dir>', 'GPG home directory holding the keys (default: GNUPGHOME, or ~/.gnupg)')
    .option('--unchanged-exit-77', 'exit with status 77 when nothing new was published')
    .action(async (dir: string, opts: PublishCommandOptions, command: Command) => {
      const out = contextOf(command);
      const repo = repoPath(out.options);
      const { publish } = await import('../transactions/publish.js');
      const result = await publish({
        repo,
        dir,
        ...(opts.branch ? { branches: opts.branch } : {}),
        ...(opts.gpgSign ? { gpgSign: opts.gpgSign } : {}),
        ...(opts.gpgHomedir ? { gpgHomedir: opts.gpgHomedir } : {}),
        onProgress: (line) => out.info(line),
      });
      if (out.json) {
        out.data(result);
      } else if (result.branches.length === 0) {
        out.result(`Nothing new to publish: ${dir} has the commits of ${result.unchanged.join(', ')} already.`);
      } else {
        for (const b of result.branches) out.result(describe(b));
        out.result(`Summary of ${dir} updated${result.summarySigned ? ' and signed' : ''}.`);
      }
      if (result.branches.length === 0 && opts.unchangedExit77) process.exitCode = UNCHANGED_EXIT;
    });
}

function describe(b: PublishedBranch): string {
  const move = b.previous ? `${short(b.previous)} -> ${short(b.commit)}` : `${short(b.commit)} (new branch)`;
  const delta = b.deltaFrom ? `static delta from ${short(b.deltaFrom)}` : 'no static delta';
  return `Published ${b.ref}: ${move}; ${delta}${b.signed ? '; signed' : ''}`;
}
