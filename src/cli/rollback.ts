// deblayer rollback [--to N]: the previous deployment (or layer state N) becomes the default.

import { Option, type Command } from 'commander';
import { UsageError } from '../errors.js';
import { contextOf } from './context.js';

export function register(program: Command): void {
  program
    .command('rollback')
    .description('make the previous deployment the default again (the current one is kept), or deploy layer state N again')
    .addOption(new Option('--to <state>', 'deploy the commit of layer state N (see deblayer history) again'))
    .action(async (opts: { to?: string }, command: Command) => {
      const out = contextOf(command);
      if (opts.to !== undefined && !/^[1-9]\d*$/.test(opts.to)) throw new UsageError(`--to wants a state number, not '${opts.to}'`);
      const [{ rollback }, { isBootedHost }] = await Promise.all([import('../transactions/rollback.js'), import('../deploy/deploy.js')]);
      const result = await rollback(out.options.sysroot, {
        ...(out.options.os !== undefined ? { os: out.options.os } : {}),
        ...(opts.to !== undefined ? { to: Number(opts.to) } : {}),
        argv: process.argv.slice(2),
        cacheDir: out.options.cacheDir,
      });
      if (out.json) {
        out.data({ default: result.deployment, path: result.path, ...(result.redeployed ? { redeployed: result.redeployed } : {}), ...(result.etcUndone ? { etcUndone: result.etcUndone } : {}) });
        return;
      }
      const d = result.deployment;
      out.result(
        result.redeployed
          ? `Deployed layer state ${result.redeployed.state} (commit ${d.checksum.slice(0, 10)}) again as the default${
              result.redeployed.recordedState !== undefined ? `: layer state ${result.redeployed.recordedState}` : ''
            }.`
          : `The default deployment is now ${d.stateroot} ${d.checksum.slice(0, 10)}.${d.serial}; the one before is kept.`,
      );
      out.result(`  deployment: ${result.path}`);
      if (result.etcUndone) out.result(`  /etc: ${result.etcUndone} paths that apply-live had added or replaced there taken back`);
      out.result(isBootedHost(out.options.sysroot) ? 'Run "systemctl reboot" to use it.' : 'Boot the sysroot to use it.');
    });
}
