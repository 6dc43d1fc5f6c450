// Whether a tree in OSTree layout can boot: a Linux kernel in
// usr/lib/modules/VERSION/vmlinuz, and beside it an initramfs that carries
// ostree-prepare-root, the program that mounts the deployment as the root
// file system. Debian has no initramfs-tools hook for it: ostree-boot ships a
// dracut module (98ostree), so the initramfs must be built by dracut with
// ostree-boot installed. Import records the answer; `deblayer image` refuses a
// commit that cannot boot.

import { closeSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { initramfsHolds } from './initramfs.js';
import { lstatIfPresent } from '../read-text.js';

export const PREPARE_ROOT = ['usr/lib/ostree/ostree-prepare-root', 'usr/lib/systemd/system/ostree-prepare-root.service'];

export interface BootCheck {
  kernelVersion?: string;
  /** What keeps the tree from booting, one sentence each; empty when it boots. */
  problems: string[];
}

/** Checks ROOT (OSTree layout: kernel and initramfs in usr/lib/modules/VERSION). */
export async function checkBootable(root: string, kernelVersion: string | undefined): Promise<BootCheck> {
  if (kernelVersion === undefined) {
    return { problems: ['no kernel (install linux-image-amd64 in the tree)'] };
  }
  const dir = join(root, 'usr/lib/modules', kernelVersion);
  const problems: string[] = [];
  if (!isLinuxKernel(join(dir, 'vmlinuz'))) problems.push(`/usr/lib/modules/${kernelVersion}/vmlinuz is not a Linux kernel image`);
  const initramfs = join(dir, 'initramfs.img');
  if (!lstatIfPresent(initramfs)?.isFile()) {
    problems.push(`kernel ${kernelVersion} has no initramfs (install dracut and ostree-boot in the tree: dracut builds one that mounts the deployment)`);
  } else {
    let holds: string | undefined;
    try {
      holds = await initramfsHolds(initramfs, PREPARE_ROOT);
    } catch (err) {
      problems.push((err as Error).message);
      return { kernelVersion, problems };
    }
    if (!holds) {
      problems.push(
        `the initramfs of kernel ${kernelVersion} has no ostree-prepare-root, so it cannot mount an OSTree deployment (build it with dracut with ostree-boot installed: initramfs-tools has no OSTree hook)`,
      );
    }
  }
  return { kernelVersion, problems };
}

/**
 * A bzImage (x86) carries "HdrS" at 0x202; an arm64 Image "ARM\x64" at 0x38,
 * and an EFI zboot image "zimg" at 4. Anything else is not a kernel a firmware or
 * bootloader starts.
 */
function isLinuxKernel(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return false;
  }
  try {
    const head = Buffer.alloc(0x210);
    const n = readSync(fd, head, 0, head.length, 0);
    const at = (offset: number, text: string) => n >= offset + text.length && head.toString('latin1', offset, offset + text.length) === text;
    return at(0x202, 'HdrS') || at(0x38, 'ARM\x64') || at(4, 'zimg');
  } finally {
    closeSync(fd);
  }
}

