// deblayer status: the sysroot's deployments, their base and layered packages,
// and, from the layer database when it can be read, their layer state.

import type { Command } from 'commander';
import type { AutomaticRun } from '../db/automatic-runs.js';
import type { UpdatePolicy } from '../vocabulary/deblayer-conf.js';
import { contextOf, type Output } from './context.js';

export function register(program: Command): void {
  program
    .command('status')
    .description("show the sysroot's deployments, their base and their layered packages")
    .action(async (_opts: unknown, command: Command) => {
      const out = contextOf(command);
      const [{ withLayerStates }, { sysrootStatus }] = await Promise.all([import('../deploy/layer-status.js'), import('../deploy/status.js')]);
      const { deployments, warnings } = withLayerStates(out.options.sysroot, await sysrootStatus(out.options.sysroot, out.options.os));
      for (const w of warnings) out.warn(w);
      const stateroot = (deployments.find((d) => d.booted) ?? deployments[0])?.stateroot;
      const automatic = stateroot === undefined ? undefined : await automaticUpdates(out, stateroot);
      if (out.json) {
        out.data({ sysroot: out.options.sysroot, ...(automatic ? { automaticUpdates: automatic } : {}), deployments });
        return;
      }
      if (deployments.length === 0) {
        out.result(`No deployments in ${out.options.sysroot}.`);
        return;
      }
      if (automatic) for (const line of automaticLines(automatic)) out.result(line);
      out.result('Deployments:');
      for (const d of deployments) {
        const flags = [d.default && 'default', d.booted && 'booted', d.staged && 'staged', d.pending && 'pending', d.rollback && 'rollback'].filter(Boolean);
        out.result(`${d.booted ? '●' : ' '} ${d.stateroot} ${d.checksum.slice(0, 10)}.${d.serial}${flags.length ? ` (${flags.join(', ')})` : ''}`);
        if (d.version) out.result(`      Version: ${d.version}`);
        if (d.unlocked) out.result(`     Unlocked: ${d.unlocked}${UNLOCKED_NOTE[d.unlocked] ?? ''}`);
        if (d.liveCommit) out.result(`    LiveCommit: ${d.liveCommit} (deblayer apply-live: runs until the next boot)`);
        if (d.baseRefspec) out.result(`   BaseRefspec: ${d.baseRefspec}`);
        if (d.baseRemote && !d.baseRemote.gpgVerify) out.result(`    Unverified: remote ${d.baseRemote.name} does not verify signatures (gpg-verify=false)`);
        if (d.baseCommit !== d.checksum) out.result(`    BaseCommit: ${d.baseCommit}`);
        out.result(`        Commit: ${d.checksum}`);
        if (d.requested.length > 0) out.result(`LayeredPackages: ${d.requested.join(' ')}`);
        if (d.requestedLocal.length > 0) out.result(`  LocalPackages: ${d.requestedLocal.join(' ')}`);
        if (d.layeredPackages.length > 0) out.result(`         Adds: ${d.layeredPackages.length} packages`);
        if (d.removedBasePackages.length > 0) out.result(`RemovedBasePackages: ${d.removedBasePackages.map((p) => p.replace('=', ' ')).join(', ')}`);
        if (d.replacedBasePackages.length > 0) out.result(`ReplacedBasePackages: ${d.replacedBasePackages.map((p) => `${p.name} ${p.base} -> ${p.version}`).join(', ')}`);
        if (d.state !== undefined) out.result(`         State: ${d.state}`);
        if (d.transaction) out.result(`   Transaction: #${d.transaction.id} ${d.transaction.command} (${d.transaction.time})`);
      }
    });
}

const UNLOCKED_NOTE: Record<string, string> = {
  development: ' (deblayer usroverlay: /usr is writable until the next boot)',
  transient: ' (deblayer apply-live: an overlay on /usr until the next boot)',
};

interface AutomaticUpdates {
  /** undefined when deblayer.conf cannot be read (a warning says why). */
  policy?: UpdatePolicy;
  config: string;
  lastRun?: AutomaticRun;
}

/** The policy of deblayer.conf, and the last run of the automatic upgrade for STATEROOT. */
async function automaticUpdates(out: Output, stateroot: string): Promise<AutomaticUpdates> {
  const [{ readDeblayerConf, confPath }, { readAutomaticRun }] = await Promise.all([import('../vocabulary/deblayer-conf.js'), import('../db/automatic-runs.js')]);
  const lastRun = readAutomaticRun(out.options.sysroot, stateroot);
  const run = lastRun ? { lastRun } : {};
  try {
    const conf = readDeblayerConf(out.options.configDir);
    return { policy: conf.updatePolicy, config: conf.path, ...run };
  } catch (err) {
    out.warn((err as Error).message);
    return { config: confPath(out.options.configDir), ...run };
  }
}

const OUTCOME: Record<AutomaticRun['outcome'], string> = {
  disabled: 'nothing done (UpdatePolicy=none)',
  'up-to-date': 'no upgrade available',
  available: 'upgrade available',
  staged: 'upgrade staged',
  failed: 'failed',
};

function automaticLines(a: AutomaticUpdates): string[] {
  const policy = a.policy === undefined ? 'unknown (see the warning)' : a.policy === 'none' ? 'disabled' : a.policy;
  if (!a.lastRun) return [`AutomaticUpdates: ${policy}; no run yet`];
  const r = a.lastRun;
  const when = r.time.replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  const what = `${OUTCOME[r.outcome]}${r.deployment ? ` (${r.deployment.slice(0, 10)}.${r.deployment.split('.').pop()})` : ''}${r.error ? `: ${r.error}` : ''}`;
  return [`AutomaticUpdates: ${policy}; last run ${when}: ${what}`, ...r.changes.map((c) => `      ${c}`)];
}
