// The deblayer command line: global options, one file per command, and the one
// place where errors become a line on stderr and an exit status.
//
// The command files import at their top only what declaring their options
// needs; an action imports the modules that do its work when it runs, so that
// --help, and each command, load only what they use.

import { Command, CommanderError, Option } from 'commander';
import { DeblayerError, EXIT } from '../errors.js';
import { setDiagnosticSink } from '../diagnostics.js';
import { register as registerDebInfo } from './deb-info.js';
import { register as registerDebContents } from './deb-contents.js';
import { register as registerDebExtract } from './deb-extract.js';
import { register as registerBaseImport } from './base-import.js';
import { register as registerBaseInfo } from './base-info.js';
import { register as registerRefreshMd } from './refresh-md.js';
import { register as registerInstall } from './install.js';
import { register as registerStatus } from './status.js';
import { register as registerCompletion } from './completion.js';
import { register as registerOverride } from './override.js';
import { register as registerUsroverlay } from './usroverlay.js';
import { register as registerApplyLive } from './apply-live.js';
import { register as registerSysext } from './sysext.js';
import { register as registerUninstall } from './uninstall.js';
import { register as registerRollback } from './rollback.js';
import { register as registerHistory } from './history.js';
import { register as registerUpgrade } from './upgrade.js';
import { register as registerCleanup } from './cleanup.js';
import { register as registerImage } from './image.js';
import { register as registerCompose } from './compose.js';
import { register as registerApply } from './apply.js';
import { register as registerRebase } from './rebase.js';
import { register as registerPublish } from './publish.js';
import { VERSION } from './version.js';
import { DEFAULT_CACHE_DIR, DEFAULT_CONFIG_DIR, DEFAULT_SYSROOT } from '../vocabulary/defaults.js';

export function buildProgram(): Command {
  const program = new Command('deblayer')
    .description('Layer Debian packages onto immutable OSTree-based Debian systems, rpm-ostree style')
    .version(VERSION, '-V, --version', 'print the version and exit')
    .addOption(new Option('--sysroot <dir>', 'operate on the OSTree sysroot at DIR').default(DEFAULT_SYSROOT))
    .addOption(new Option('--repo <dir>', 'OSTree repository (default: SYSROOT/ostree/repo)'))
    .addOption(new Option('--os <name>', 'OSTree stateroot (OS name) to operate on'))
    .addOption(new Option('--cache-dir <dir>', 'package lists and downloaded packages').default(DEFAULT_CACHE_DIR))
    .addOption(new Option('--config-dir <dir>', 'deblayer configuration: deblayer.conf, and a sources.list.d that replaces the base\'s sources').default(DEFAULT_CONFIG_DIR))
    .option('--json', 'print results as JSON on stdout', false)
    .option('-v, --verbose', 'print details, and full context on errors', false)
    .option('-q, --quiet', 'print only errors', false)
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ outputError: (str, write) => write(`deblayer: ${str}`) })
    .exitOverride();

  const deb = program
    .command('deb')
    .description('inspect and unpack Debian binary packages (.deb files)')
    .exitOverride();
  registerDebInfo(deb);
  registerDebContents(deb);
  registerDebExtract(deb);
  for (const sub of deb.commands) sub.exitOverride();

  const base = program.command('base').description('import OSTree base commits and inspect them').exitOverride();
  registerBaseImport(base);
  registerBaseInfo(base);
  for (const sub of base.commands) sub.exitOverride();

  registerRefreshMd(program);
  registerInstall(program);
  registerUninstall(program);
  registerRollback(program);
  registerHistory(program);
  registerUpgrade(program);
  registerRebase(program);
  registerCleanup(program);
  registerApply(program);
  const override = program
    .command('override')
    .description('remove or replace packages of the base in the deployment, or bring them back (rpm-ostree override)')
    .exitOverride();
  registerOverride(override);
  for (const sub of override.commands) sub.exitOverride();
  registerCompose(program);
  registerImage(program);
  registerPublish(program);
  registerStatus(program);
  registerUsroverlay(program);
  registerApplyLive(program);
  registerSysext(program);
  registerCompletion(program);
  for (const sub of program.commands) sub.exitOverride();
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  const verbose = argv.includes('-v') || argv.includes('--verbose');
  if (verbose) setDiagnosticSink((line) => process.stderr.write(`deblayer: note: ${line}\n`));
  try {
    await program.parseAsync(argv);
    // A command may end with a status of its own (--unchanged-exit-77).
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and --version "fail" with code 0; real usage errors were already printed.
      return err.exitCode === 0 ? 0 : 2;
    }
    // A full disk, wherever it struck (ostree, apt, a write of our own): one line, its own status.
    const message = err instanceof Error ? err.message : String(err);
    if ((err as NodeJS.ErrnoException)?.code === 'ENOSPC' || /No space left on device|ENOSPC/.test(message)) {
      process.stderr.write(`deblayer: error: no space left on device: ${message.replace(/^deblayer: error: /, '')}\n`);
      if (verbose && err instanceof DeblayerError && err.detail) process.stderr.write(`${err.detail}\n`);
      return EXIT.diskFull;
    }
    if (err instanceof DeblayerError) {
      process.stderr.write(`deblayer: error: ${err.message}\n`);
      if (verbose) {
        if (err.detail) process.stderr.write(`${err.detail}\n`);
        if (err.cause instanceof Error) process.stderr.write(`caused by: ${err.cause.stack ?? err.cause.message}\n`);
      }
      return err.exitCode;
    }
    // A bug, not a user error: say so, keep it to one line unless asked.
    const e = err as Error;
    process.stderr.write(`deblayer: internal error: ${e?.message ?? String(err)}\n`);
    if (verbose && e?.stack) process.stderr.write(`${e.stack}\n`);
    return 70;
  }
}
