// A deployment's .origin file, beside its checkout in the stateroot: read here
// for everything that needs what a deployment was deployed with.

import { existsSync, readFileSync } from 'node:fs';
import type { Deployment, OstreeSysroot } from '../exec/ostree.js';
import { parseOrigin, type Origin } from './origin.js';

export function readDeploymentOrigin(sysroot: OstreeSysroot, deployment: Pick<Deployment, 'stateroot' | 'checksum' | 'serial'>): Origin | undefined {
  const path = `${sysroot.deploymentPath(deployment)}.origin`;
  return existsSync(path) ? parseOrigin(readFileSync(path, 'utf8')) : undefined;
}
