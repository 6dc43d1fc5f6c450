// deblayer status: the sysroot's deployments, their base and layered packages,
// and, from the layer database when it can be read, their layer state.

import type { Command } from 'commander';
import { contextOf } from './context.js';

export function register(program: Command): void {
  program
    .command('status')
    .description("show the sysroot's deployments, their base and their layered packages")
    .action(async (_opts: unknown, command: Command) => {
      const out = contextOf(command);
      const [{ withLayerStates }, { sysrootStatus }] = await Promise.all([import('../deploy/layer-status.js'), import('../deploy/status.js')]);
      const { deployments, warnings } = withLayerStates(out.options.sysroot, await sysrootStatus(out.options.sysroot, out.options.os));
      for (const w of warnings) out.warn(w);
      if (out.json) {
        out.data({ sysroot: out.options.sysroot, deployments });
        return;
      }
      if (deployments.length === 0) {
        out.result(`No deployments in ${out.options.sysroot}.`);
        return;
      }
      out.result('Deployments:');
      for (const d of deployments) {
        const flags = [d.default && 'default', d.booted && 'booted', d.staged && 'staged', d.pending && 'pending', d.rollback && 'rollback'].filter(Boolean);
        out.result(`${d.booted ? '●' : ' '} ${d.stateroot} ${d.checksum.slice(0, 10)}.${d.serial}${flags.length ? ` (${flags.join(', ')})` : ''}`);
        if (d.version) out.result(`      Version: ${d.version}`);
        if (d.baseRefspec) out.result(`   BaseRefspec: ${d.baseRefspec}`);
        if (d.baseRemote && !d.baseRemote.gpgVerify) out.result(`    Unverified: remote ${d.baseRemote.name} does not verify signatures (gpg-verify=false)`);
        if (d.baseCommit !== d.checksum) out.result(`    BaseCommit: ${d.baseCommit}`);
        out.result(`        Commit: ${d.checksum}`);
        if (d.requested.length > 0) out.result(`LayeredPackages: ${d.requested.join(' ')}`);
        if (d.requestedLocal.length > 0) out.result(`  LocalPackages: ${d.requestedLocal.join(' ')}`);
        if (d.layeredPackages.length > 0) out.result(`         Adds: ${d.layeredPackages.length} packages`);
        if (d.state !== undefined) out.result(`         State: ${d.state}`);
        if (d.transaction) out.result(`   Transaction: #${d.transaction.id} ${d.transaction.command} (${d.transaction.time})`);
      }
    });
}
