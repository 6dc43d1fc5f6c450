// How an image boots and keeps booting what libostree deploys later.
//
// libostree's syslinux backend (sysroot.bootloader=syslinux) rewrites
// /boot/loader.N/syslinux.cfg with every deploy and rollback and swaps the
// /boot/loader link atomically, like its BLS entries. Debian 12's GRUB has no
// blscfg command but reads syslinux configs (syslinuxcfg), so a standalone
// GRUB on the EFI system partition that sources that file always boots the
// current default, with nothing on the ESP to keep up to date. systemd-boot
// was tried first and dropped: it reads entries copied onto the FAT ESP, and
// those go stale after a deploy inside the booted machine.

import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The bootloader setting written into the image's repository config. */
export const BOOTLOADER = 'syslinux';

/**
 * What libostree's syslinux backend expects in the sysroot's /boot before the
 * first deploy: a loader.0 directory behind the loader link, and the
 * syslinux.cfg GRUB reads pointing through that link.
 */
export function prepareBootDirectory(sysroot: string): void {
  const boot = join(sysroot, 'boot');
  mkdirSync(join(boot, 'loader.0'), { recursive: true });
  mkdirSync(join(boot, 'syslinux'), { recursive: true });
  symlinkSync('loader.0', join(boot, 'loader'));
  writeFileSync(join(boot, 'loader.0/syslinux.cfg'), '');
  symlinkSync('../loader/syslinux.cfg', join(boot, 'syslinux/syslinux.cfg'));
}

/** The configuration built into the standalone GRUB: find the root by label, boot syslinux.cfg's default. */
export function grubConfig(rootLabel: string): string {
  return [
    'serial --unit=0 --speed=115200',
    'terminal_input console serial',
    'terminal_output console serial',
    `search --no-floppy --label ${rootLabel} --set=root`,
    'syslinux_source /boot/syslinux/syslinux.cfg',
    'boot',
    '',
  ].join('\n');
}

/** The DEFAULT entry of a syslinux.cfg libostree wrote, and its kernel and options. */
export function defaultEntry(syslinuxCfg: string): { label: string; kernel?: string; append?: string } | undefined {
  const def = /^DEFAULT\s+(.+)$/m.exec(syslinuxCfg)?.[1]?.trim();
  if (!def) return undefined;
  let inEntry = false;
  const entry: { label: string; kernel?: string; append?: string } = { label: def };
  for (const raw of syslinuxCfg.split('\n')) {
    const line = raw.trim();
    const label = /^LABEL\s+(.+)$/.exec(line);
    if (label) {
      inEntry = label[1]!.trim() === def;
      continue;
    }
    if (!inEntry) continue;
    const kernel = /^KERNEL\s+(.+)$/.exec(line);
    if (kernel) entry.kernel = kernel[1]!;
    const append = /^APPEND\s+(.+)$/.exec(line);
    if (append) entry.append = append[1]!;
  }
  return entry;
}
