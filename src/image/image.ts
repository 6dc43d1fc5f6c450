// `deblayer image`: a raw disk image that a firmware boots, holding one commit
// deployed in a fresh sysroot and nothing of the repository's history. The
// sysroot is made with the real `ostree admin` on a tmpfs in a private mount
// namespace (deploying freezes the file system that holds /boot, and
// everything vanishes with the namespace if deblayer dies), then written into
// the image without mounting anything: mkfs.ext4 -d for the root partition,
// mkfs.vfat and mtools for the EFI system partition, sfdisk for the table.

import { accessSync, closeSync, constants, copyFileSync, existsSync, ftruncateSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, renameSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { LOCAL_PACKAGES } from '../apt/environment.js';
import { DEFAULT_CACHE_DIR } from '../vocabulary/defaults.js';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { checkBootable } from '../base/bootable.js';
import { formatOrigin, parseOrigin, type Origin } from '../deploy/origin.js';
import { DeblayerError, EXIT, UsageError } from '../errors.js';
import { readDeploymentOrigin } from '../deploy/origin-file.js';
import { fatCopy, mkfsVfat } from '../exec/fat.js';
import { mkstandaloneEfi, requireGrubEfi } from '../exec/grub.js';
import { requirePrograms } from '../exec/run.js';
import { mkfsExt4 } from '../exec/mkfs-ext4.js';
import { mountTmpfs } from '../exec/mount.js';
import { MountNamespace } from '../exec/namespace.js';
import { OstreeRepo, OstreeSysroot, short, type CommitInfo } from '../exec/ostree.js';
import { writePartitionTable } from '../exec/sfdisk.js';
import { BOOTLOADER, defaultEntry, grubConfig, prepareBootDirectory } from './bootloader.js';
import { diskLayout, ROOT_LABEL, sfdiskScript, type DiskLayout } from './disk-layout.js';
import { timedStep } from '../steps.js';
import { lstatIfPresent } from '../read-text.js';

export interface ImageOptions {
  repo: string;
  /** A ref or commit of REPO: a base, or a state deblayer layered. */
  ref: string;
  /** The origin to deploy with (a sysroot deployment's own); by default the commit's or REF's. */
  origin?: Origin;
  output: string;
  /** Bytes in all; by default the tree and as much room again. */
  size?: number;
  /** The remote the booted machine upgrades from. */
  remote?: { name: string; url: string };
  kargs: string[];
  stateroot: string;
  /** deblayer's cache dir on this host: where the .deb files of layered local packages are. */
  cacheDir: string;
  onStart?: (step: ImageStep) => void;
  onStep?: (step: ImageStep, seconds: number) => void;
}

export type ImageStep = 'sysroot' | 'deploy' | 'bootloader' | 'filesystems';

export interface ImageResult {
  output: string;
  size: number;
  commit: string;
  /** The commit a layered state was made on (also in the image, for later transactions). */
  baseCommit?: string;
  origin: Origin;
  kernel: string;
  kargs: string[];
  stateroot: string;
  treeBytes: number;
  layout: DiskLayout;
}

export const DEFAULT_KARGS = [`root=LABEL=${ROOT_LABEL}`, 'rw'];

/** What writeImage has checked before it builds anything. */
interface ImageSource {
  commit: string;
  plan: OriginPlan;
  output: string;
  localDebs: string[];
}

/**
 * The stages: check everything first; in a tmpfs of a private mount
 * namespace, a fresh sysroot with REF's commit deployed and the boot loader
 * built; then the disk image, written as .NAME.partial and renamed when complete.
 */
export async function writeImage(options: ImageOptions): Promise<ImageResult> {
  const source = await checkSource(options);
  const { output, commit, plan } = source;
  const partial = join(dirname(output), `.${basename(output)}.${process.pid}.partial`);
  const mountpoint = mkdtempSync(join(tmpdir(), 'deblayer-image-'));
  let ns: MountNamespace | undefined;
  try {
    ns = await MountNamespace.open();
    await mountTmpfs(ns, mountpoint);
    const staging = ns.path(mountpoint);
    const sysrootPath = join(staging, 'sysroot');
    const sysroot = await timedStep(options, 'sysroot', () => makeSysroot(options, source, sysrootPath));
    const deployment = await timedStep(options, 'deploy', () => deployInto(options, source, sysroot, staging));
    const kernel = await timedStep(options, 'bootloader', () => buildBootloader(options, commit, sysrootPath, deployment.path, staging));
    const treeBytes = diskUsage(sysrootPath);
    const layout = diskLayout(treeBytes, options.size);
    await timedStep(options, 'filesystems', () => writeDisk(partial, layout, staging, sysrootPath));
    try {
      renameSync(partial, output);
    } catch (err) {
      throw new DeblayerError(`cannot put the image at ${output}: ${(err as Error).message}`, { cause: err });
    }
    return {
      output,
      size: layout.size,
      commit,
      ...(plan.baseCommit && plan.baseCommit !== commit ? { baseCommit: plan.baseCommit } : {}),
      origin: plan.origin,
      kernel,
      kargs: deployment.kargs,
      stateroot: options.stateroot,
      treeBytes,
      layout,
    };
  } finally {
    rmSync(partial, { force: true });
    await ns?.close();
    rmdirSync(mountpoint);
  }
}

/** Everything that can be refused is, before anything is built: the ref, the output, the programs, the local packages. */
async function checkSource(options: ImageOptions): Promise<ImageSource> {
  const repo = new OstreeRepo(options.repo);
  if (!existsSync(join(options.repo, 'config'))) throw new UsageError(`${options.repo} is not an OSTree repository (it has no config file)`);
  const commit = await repo.resolve(options.ref);
  if (!commit) throw new UsageError(`'${options.ref}' names no commit in ${options.repo}`);
  const info = await repo.commitInfo(commit);
  const plan = originFor(options, commit, info);
  const output = resolve(options.output);
  checkOutput(output);
  requirePrograms(IMAGE_PROGRAMS);
  requireGrubEfi();
  return { commit, plan, output, localDebs: localPackages(options.cacheDir, plan.origin) };
}

/** A sysroot holding the commit (and the base a layer state was made on), with the remote and the local packages. */
async function makeSysroot(options: ImageOptions, source: ImageSource, sysrootPath: string): Promise<OstreeSysroot> {
  const { commit, plan, localDebs } = source;
  const s = await OstreeSysroot.create(sysrootPath, options.stateroot);
  await s.repo.setConfig('sysroot.bootloader', BOOTLOADER);
  prepareBootDirectory(sysrootPath);
  if (options.remote) await s.repo.addRemote(options.remote.name, options.remote.url, { gpgVerify: false });
  await s.repo.pullLocal(options.repo, commit);
  if (plan.baseCommit && plan.baseCommit !== commit) await s.repo.pullLocal(options.repo, plan.baseCommit);
  if (plan.refspec) await s.repo.createRef(plan.refspec, plan.baseCommit ?? commit);
  // The booted machine recomposes the layer with them, from its own cache dir.
  const keep = join(sysrootPath, 'ostree/deploy', options.stateroot, DEFAULT_CACHE_DIR.replace(/^\//, ''), LOCAL_PACKAGES);
  if (localDebs.length > 0) mkdirSync(keep, { recursive: true, mode: 0o755 });
  for (const deb of localDebs) copyFileSync(deb, join(keep, basename(deb)));
  return s;
}

async function deployInto(options: ImageOptions, source: ImageSource, sysroot: OstreeSysroot, staging: string): Promise<{ path: string; kargs: string[] }> {
  const { commit } = source;
  const originFile = join(staging, 'origin');
  writeFileSync(originFile, formatOrigin(source.plan.origin));
  const kargs = [...DEFAULT_KARGS, ...options.kargs];
  await sysroot.deploy(commit, { os: options.stateroot, originFile, stage: false, kargs });
  rmSync(originFile);
  const [d] = await sysroot.deployments();
  if (!d || d.checksum !== commit) throw new DeblayerError(`ostree admin deploy finished, but ${short(commit)} is not the default deployment`);
  return { path: sysroot.deploymentPath(d), kargs };
}

/** Checks that the kernel the boot entry starts can boot, and builds the standalone GRUB that reads the entry; returns the kernel version. */
async function buildBootloader(options: ImageOptions, commit: string, sysrootPath: string, deploymentPath: string, staging: string): Promise<string> {
  const entry = defaultEntry(readFileSync(join(sysrootPath, 'boot/syslinux/syslinux.cfg'), 'utf8'));
  if (!entry?.kernel) throw new DeblayerError('ostree admin deploy wrote no boot entry into /boot/syslinux/syslinux.cfg: is this ostree built with its syslinux backend?');
  // The kernel the boot entry starts, which ostree chose: the one to check.
  const version = /\/vmlinuz-([^/]+)$/.exec(entry.kernel)?.[1];
  const boot = await checkBootable(deploymentPath, version);
  if (boot.problems.length > 0) throw new DeblayerError(`${options.ref} (${short(commit)}) cannot boot: ${boot.problems.join('; ')}`);
  writeFileSync(join(staging, 'grub.cfg'), grubConfig(ROOT_LABEL));
  await mkstandaloneEfi(join(staging, 'BOOTX64.EFI'), join(staging, 'grub.cfg'));
  return boot.kernelVersion!;
}

/** The disk image at PARTIAL: partition table, the ESP with GRUB, the root file system made from the sysroot. */
async function writeDisk(partial: string, layout: DiskLayout, staging: string, sysrootPath: string): Promise<void> {
  rmSync(partial, { force: true });
  let fd: number;
  try {
    fd = openSync(partial, 'wx');
  } catch (err) {
    throw new DeblayerError(`cannot write ${partial}: ${(err as Error).message}`, { cause: err });
  }
  try {
    ftruncateSync(fd, layout.size);
  } finally {
    closeSync(fd);
  }
  await writePartitionTable(partial, sfdiskScript(layout));
  const esp = { image: partial, offset: layout.esp.offset, size: layout.esp.size, label: layout.esp.label };
  await mkfsVfat(esp);
  await fatCopy(esp, join(staging, 'BOOTX64.EFI'), 'EFI/BOOT/BOOTX64.EFI');
  await mkfsExt4({ image: partial, offset: layout.root.offset, size: layout.root.size, label: ROOT_LABEL, from: sysrootPath });
}

/** What SYSROOT boots next (the first deployment of its stateroot), with the origin it was deployed with: the image's source when no ref is named. */
export async function nextDeployment(sysrootPath: string, os: string | undefined): Promise<{ repo: string; ref: string; origin: Origin; stateroot: string }> {
  const sysroot = new OstreeSysroot(sysrootPath);
  const next = (await sysroot.deployments()).find((d) => os === undefined || d.stateroot === os);
  if (!next) throw new DeblayerError(`no deployments in ${sysrootPath}${os ? ` for stateroot ${os}` : ''}: name a ref (and --repo)`, { exitCode: EXIT.notSysroot });
  const origin = readDeploymentOrigin(sysroot, next);
  if (!origin) throw new DeblayerError(`deployment ${short(next.checksum)}.${next.serial} has no origin file, so its base ref is unknown: name a ref (and --repo)`);
  return { repo: sysroot.repo.path, ref: next.checksum, origin, stateroot: next.stateroot };
}

interface OriginPlan {
  origin: Origin;
  /** The ref the origin follows, made in the image's repository (`REMOTE:REF` with a remote). */
  refspec?: string;
  baseCommit?: string;
}

/**
 * The origin the image's deployment gets: the one given (a deployment's own),
 * or the one a state deblayer layered carries (commit metadata
 * `deblayer.origin`), so its packages stay requested and its base ref is
 * followed; a plain base follows REF itself. With a remote, the ref is the
 * remote's.
 */
function originFor(options: ImageOptions, commit: string, info: CommitInfo): OriginPlan {
  const remoteRef = (ref: string) => (options.remote ? `${options.remote.name}:${ref.replace(/^[^:]*:/, '')}` : ref.replace(/^[^:]*:/, ''));
  const layered = info.metadata['deblayer.origin'];
  const origin = options.origin ?? (typeof layered === 'string' ? parseOrigin(layered) : undefined);
  if (origin) {
    const base = typeof info.metadata['deblayer.base'] === 'string' ? (info.metadata['deblayer.base'] as string) : (origin.baseCommit ?? commit);
    if (!origin.baseRefspec) throw new DeblayerError(`${options.ref} (${short(commit)}): its origin names no base ref for the booted machine to upgrade from`);
    const followed = /^([^:/]+):/.exec(origin.baseRefspec)?.[1];
    if (followed && !options.remote) {
      throw new UsageError(`the origin follows remote '${followed}' (${origin.baseRefspec}): give the image that remote with --remote ${followed}=URL`);
    }
    const refspec = remoteRef(origin.baseRefspec);
    return { origin: { ...origin, baseRefspec: refspec }, refspec, baseCommit: base };
  }
  if (/^[0-9a-f]{64}$/.test(options.ref)) {
    throw new UsageError(`name a ref, not a commit, for a base: the booted machine upgrades by following it`);
  }
  const refspec = remoteRef(options.ref);
  return { origin: { baseRefspec: refspec, requested: [], requestedLocal: [], other: {} }, refspec };
}


/** Bytes the tree takes on disk, each hardlinked file once (as mkfs.ext4 -d writes it). */
function diskUsage(dir: string): number {
  const seen = new Set<string>();
  let total = 0;
  const walk = (path: string) => {
    const st = lstatSync(path, { bigint: false });
    if (st.nlink > 1 && !st.isDirectory()) {
      const key = `${st.dev}:${st.ino}`;
      if (seen.has(key)) return;
      seen.add(key);
    }
    total += st.blocks * 512;
    if (st.isDirectory()) for (const name of readdirSync(path)) walk(join(path, name));
  };
  walk(dir);
  return total;
}

/** What deblayer image runs, and the Debian package that has it: checked before anything is built. */
const IMAGE_PROGRAMS: [string, string][] = [
  ['mkfs.ext4', 'e2fsprogs'],
  ['mkfs.vfat', 'dosfstools'],
  ['mcopy', 'mtools'],
  ['sfdisk', 'fdisk'],
  ['grub-mkstandalone', 'grub-common'],
];

/** The output is a new file or a regular file to replace, in a directory deblayer can write. */
function checkOutput(output: string): void {
  const dir = dirname(output);
  if (!existsSync(dir)) throw new UsageError(`${dir}: no such directory`);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new UsageError(`${dir}: not writable`);
  }
  const st = lstatIfPresent(output);
  if (st && !st.isFile()) throw new UsageError(`${output} exists and is not a regular file: deblayer image writes image files, not devices or directories`);
}

/** The kept .deb files of the origin's local packages, each of which must be there. */
function localPackages(cacheDir: string, origin: Origin): string[] {
  const dir = join(cacheDir, LOCAL_PACKAGES);
  return origin.requestedLocal.map((name) => {
    const file = join(dir, `${name}.deb`);
    if (!existsSync(file)) {
      throw new DeblayerError(`the layered local package ${name} is not in ${dir}: the booted machine needs its .deb to recompose the layer (give the --cache-dir it was installed with)`);
    }
    return file;
  });
}

