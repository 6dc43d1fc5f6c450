// Deploying a commit with a given origin: staged on the booted host (finished
// at shutdown, as rpm-ostree does), directly on an offline sysroot.

import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeblayerError } from '../errors.js';
import { deploymentSerial } from '../exec/libostree.js';
import { short, type OstreeSysroot } from '../exec/ostree.js';
import { formatOrigin, type Origin } from './origin.js';
import { stagingDir } from '../staging.js';

export interface DeployResult {
  path: string;
  staged: boolean;
}

/** True when SYSROOT is the running host booted from OSTree. */
export function isBootedHost(sysrootPath: string): boolean {
  return (sysrootPath === '/' || sysrootPath === '') && existsSync('/run/ostree-booted');
}

export async function deployCommit(sysroot: OstreeSysroot, commit: string, origin: Origin, stateroot: string, sysrootPath: string): Promise<DeployResult> {
  const staged = isBootedHost(sysrootPath);
  // In the repository's tmp/, where the next transaction cleans what a killed one left.
  const tmp = stagingDir(sysroot.repo.path, 'origin');
  try {
    const originFile = join(tmp, 'origin');
    writeFileSync(originFile, formatOrigin(origin));
    await sysroot.deploy(commit, { os: stateroot, originFile, stage: staged });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const serial = await deploymentSerial(sysroot.path, stateroot, commit);
  if (serial === undefined) throw new DeblayerError(`ostree admin deploy finished, but no deployment of ${short(commit)} is listed`);
  return { path: sysroot.deploymentPath({ stateroot, checksum: commit, serial }), staged };
}
