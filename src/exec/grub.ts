// grub-mkstandalone from grub-efi-amd64-bin: the only place that spawns it.
// Builds one EFI program holding GRUB, the modules it needs and its config,
// so that the EFI system partition holds a single file that never changes.

import { existsSync } from 'node:fs';
import { DeblayerError } from '../errors.js';
import { run } from './run.js';

const PLATFORM_DIR = '/usr/lib/grub/x86_64-efi';

/** The modules the standalone config uses: GPT, ext4, search by label, syslinux configs, Linux, and the EFI video drivers that hand the kernel a framebuffer (without them: "no suitable video mode", and a blank screen until a DRM driver loads). */
const MODULES = ['part_gpt', 'ext2', 'search', 'search_label', 'syslinuxcfg', 'linux', 'normal', 'echo', 'test', 'serial', 'terminal', 'gzio', 'all_video'];

/** GRUB's x86_64 EFI modules, which grub-mkstandalone packs: an error naming the package when they are missing. */
export function requireGrubEfi(): void {
  if (!existsSync(PLATFORM_DIR)) {
    throw new DeblayerError(`${PLATFORM_DIR} is missing: deblayer image needs GRUB's EFI modules (apt-get install grub-efi-amd64-bin)`);
  }
}

export async function mkstandaloneEfi(out: string, configFile: string): Promise<void> {
  requireGrubEfi();
  await run(
    'grub-mkstandalone',
    [
      '--format=x86_64-efi',
      `--output=${out}`,
      `--install-modules=${MODULES.join(' ')}`,
      `--modules=${MODULES.join(' ')}`,
      '--locales=',
      '--fonts=',
      '--themes=',
      `boot/grub/grub.cfg=${configFile}`,
    ],
    'cannot build the standalone GRUB EFI program',
  );
}
