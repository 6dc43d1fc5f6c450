// upgrade --trigger-automatic-update-policy, what deblayer-upgrade.service
// runs from its timer: the UpdatePolicy of deblayer.conf decides whether it
// does nothing, looks for an upgrade (upgrade --check) or stages it (upgrade),
// and the run is kept for `deblayer status`, failed ones too.

import { changeLines } from './upgrade-changes.js';
import { writeAutomaticRun, type AutomaticRun } from '../db/automatic-runs.js';
import { OstreeSysroot } from '../exec/ostree.js';
import { DeblayerError, requireRoot } from '../errors.js';
import { readDeblayerConf, type DeblayerConf } from '../vocabulary/deblayer-conf.js';
import { upgrade, type UpgradeOptions, type UpgradeResult } from './upgrade.js';

export interface AutomaticResult {
  conf: DeblayerConf;
  run: AutomaticRun;
  upgrade?: UpgradeResult;
}

export async function automaticUpgrade(options: Omit<UpgradeOptions, 'mode' | 'check'>, configDir: string): Promise<AutomaticResult> {
  requireRoot('deblayer upgrade --trigger-automatic-update-policy');
  const conf = readDeblayerConf(configDir);
  const sysroot = options.selector.sysroot;
  const deployments = (await new OstreeSysroot(sysroot).deployments()).filter((d) => options.selector.os === undefined || d.stateroot === options.selector.os);
  const stateroot = (deployments.find((d) => d.booted) ?? deployments[0])?.stateroot;
  if (!stateroot) throw new DeblayerError(`no deployments in ${sysroot}: nothing to upgrade`);
  const started = new Date().toISOString();
  const keep = (run: Omit<AutomaticRun, 'time' | 'policy'>): AutomaticRun => {
    const full = { time: started, policy: conf.updatePolicy, ...run };
    writeAutomaticRun(sysroot, stateroot, full);
    return full;
  };
  if (conf.updatePolicy === 'none') return { conf, run: keep({ outcome: 'disabled', changes: [] }) };
  try {
    const result = await upgrade({ ...options, mode: conf.updatePolicy === 'stage' ? 'deploy' : 'dry-run', ...(conf.updatePolicy === 'check' ? { check: true } : {}) });
    const changes = result.upToDate ? [] : changeLines(result);
    const outcome = result.upToDate ? 'up-to-date' : result.deployed ? 'staged' : 'available';
    const deployment = result.deployed ? { deployment: result.deployed.path.split('/').pop()! } : {};
    return { conf, run: keep({ outcome, changes, ...deployment }), upgrade: result };
  } catch (err) {
    keep({ outcome: 'failed', changes: [], error: err instanceof Error ? err.message : String(err) });
    throw err;
  }
}
