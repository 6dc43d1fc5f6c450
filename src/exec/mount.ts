// mount(8) and umount(8), always inside a private mount namespace
// (namespace.ts): the only place that builds their command lines.

import { accessSync, constants } from 'node:fs';
import { CommandError } from '../errors.js';
import type { MountNamespace } from './namespace.js';

export interface OverlaySpec {
  lower: string;
  upper: string;
  work: string;
  target: string;
}

/**
 * Options that keep the upper directory plain to read back: no redirects
 * (renaming a lower directory gives EXDEV, and mv falls back to copying), no
 * metadata-only copy-ups, no index. A change always copies the file up, so a
 * file hardlinked with a repository object is never written.
 */
export function overlayArgs(spec: OverlaySpec): string[] {
  return [
    '-t',
    'overlay',
    'overlay',
    '-o',
    `lowerdir=${spec.lower},upperdir=${spec.upper},workdir=${spec.work},redirect_dir=off,metacopy=off,index=off`,
    spec.target,
  ];
}

export async function mountOverlay(ns: MountNamespace, spec: OverlaySpec): Promise<void> {
  await ns.run('mount', overlayArgs(spec), `cannot mount an overlay on ${spec.target}`);
}

/** Several lower directories (the first on top) as one read-only tree at TARGET. */
export async function mountReadOnlyOverlay(ns: MountNamespace, lowers: string[], target: string): Promise<void> {
  await ns.run('mount', ['-t', 'overlay', 'overlay', '-o', `ro,lowerdir=${lowers.join(':')},redirect_dir=off,metacopy=off,index=off`, target], `cannot mount an overlay on ${target}`);
}

/** One umount(8) for all TARGETS: each command run in the namespace costs a fork and two execs. */
export async function unmount(ns: MountNamespace, ...targets: string[]): Promise<void> {
  await ns.run('umount', targets, `cannot unmount ${targets.join(', ')}`);
}

/** A tmpfs at TARGET (sized by the kernel's default, half the memory, unless SIZE). */
export async function mountTmpfs(ns: MountNamespace, target: string, size?: string): Promise<void> {
  await ns.run('mount', ['-t', 'tmpfs', '-o', `mode=0755${size ? `,size=${size}` : ''}`, 'tmpfs', target], `cannot mount a tmpfs on ${target}`);
}

/**
 * Makes TARGET writable in NS alone: the host keeps its read-only mount of the
 * same filesystem (mount flags are per mount), as rpm-ostree does with the
 * transient overlay on /usr.
 */
export async function remountWritable(ns: MountNamespace, target: string): Promise<void> {
  // mount(2) and not the new mount API: an overlay refuses any option given
  // to a reconfigure through fsconfig(2), and libmount 2.39+ passes them.
  await ns.run('mount', ['-o', 'remount,rw', target], `cannot make ${target} writable`, { env: { LIBMOUNT_FORCE_MOUNT2: 'always' } });
  try {
    accessSync(ns.path(target), constants.W_OK);
  } catch (err) {
    throw new CommandError('mount', `cannot make ${target} writable: it is still read-only after mount -o remount,rw (${(err as Error).message})`);
  }
}
