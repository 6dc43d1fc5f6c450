// The state of a sysroot, as one model computed from ostree (deployments,
// their origins and commit metadata) and rendered by the CLI as text or JSON.
// Works from ostree alone.

import { OstreeSysroot, type Deployment } from '../exec/ostree.js';
import { readDeploymentOrigin } from './origin-file.js';
import { parseStatePackages } from '../vocabulary/packages.js';
import { liveCommit } from './live-state.js';

export interface DeploymentStatus extends Omit<Deployment, 'refspec'> {
  /** The first deployment of its stateroot: what boots next. */
  default: boolean;
  version?: string;
  /** The commit the packages are layered on (the deployment's own commit when nothing is). */
  baseCommit: string;
  baseRefspec?: string;
  /** The remote the base refspec names, and whether pulls from it verify signatures. */
  baseRemote?: { name: string; gpgVerify: boolean };
  requested: string[];
  requestedLocal: string[];
  /** NAME=VERSION of every package the layer adds. */
  layeredPackages: string[];
  /** NAME=VERSION of the base packages it goes without (override remove). */
  removedBasePackages: string[];
  /** The base packages it has another version of (override replace): the base's version and the layered one. */
  replacedBasePackages: { name: string; base: string; version: string }[];
  path: string;
  /** The commit this booted deployment runs live (deblayer apply-live), until the next boot. */
  liveCommit?: string;
}

export async function sysrootStatus(path: string, os?: string): Promise<DeploymentStatus[]> {
  const sysroot = new OstreeSysroot(path);
  const repo = sysroot.repo;
  const deployments = (await sysroot.deployments()).filter((d) => os === undefined || d.stateroot === os);
  const verifies = new Map<string, Promise<boolean>>();
  const remoteOf = async (refspec: string | undefined) => {
    const colon = refspec?.indexOf(':') ?? -1;
    if (refspec === undefined || colon < 0) return undefined;
    const name = refspec.slice(0, colon);
    if (!verifies.has(name)) verifies.set(name, repo.remoteGpgVerify(name));
    return { name, gpgVerify: await verifies.get(name)! };
  };
  return Promise.all(deployments.map(async (d: Deployment) => {
    const dir = sysroot.deploymentPath(d);
    const origin = readDeploymentOrigin(sysroot, d);
    const info = await repo.commitInfo(d.checksum);
    const meta = info.metadata;
    const base = typeof meta['deblayer.base'] === 'string' ? meta['deblayer.base'] : d.checksum;
    const layered = parseStatePackages(meta['deblayer.packages']);
    const packages = layered.map((p) => `${p.name}=${p.version}`);
    const baseRefspec = origin?.baseRefspec ?? d.refspec;
    const baseRemote = await remoteOf(baseRefspec);
    const live = liveCommit(path, d);
    return {
      default: deployments.find((x) => x.stateroot === d.stateroot) === d,
      index: d.index,
      stateroot: d.stateroot,
      checksum: d.checksum,
      serial: d.serial,
      booted: d.booted,
      staged: d.staged,
      pending: d.pending,
      rollback: d.rollback,
      ...(d.unlocked ? { unlocked: d.unlocked } : {}),
      ...(typeof meta.version === 'string' ? { version: meta.version } : {}),
      baseCommit: base,
      ...(baseRefspec ? { baseRefspec } : {}),
      ...(baseRemote ? { baseRemote } : {}),
      requested: origin?.requested ?? [],
      requestedLocal: origin?.requestedLocal ?? [],
      layeredPackages: packages,
      removedBasePackages: parseStatePackages(meta['deblayer.removed']).map((p) => `${p.name}=${p.version}`),
      replacedBasePackages: parseStatePackages(meta['deblayer.replaced']).map(({ name, version: base }) => ({
        name,
        base,
        version: layered.find((p) => p.name === name)?.version ?? '',
      })),
      path: dir,
      ...(live ? { liveCommit: live } : {}),
    };
  }));
}
