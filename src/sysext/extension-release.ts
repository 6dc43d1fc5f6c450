// The extension-release file of a system extension (os-release(5)): systemd-
// sysext merges an image only when its ID matches the host's os-release, and
// its SYSEXT_LEVEL the host's (when the host sets one) or else its
// VERSION_ID, so the image names the base it was built against.

import { DeblayerError } from '../errors.js';
import type { OsRelease } from '../base/os-release.js';

/** systemd's architecture names (systemd.unit(5) ConditionArchitecture=) for dpkg's. */
const ARCHITECTURES: Record<string, string> = {
  amd64: 'x86-64',
  i386: 'x86',
  arm64: 'arm64',
  armhf: 'arm',
  armel: 'arm',
  ppc64el: 'ppc64-le',
  s390x: 's390x',
  riscv64: 'riscv64',
  loong64: 'loongarch64',
  mips64el: 'mips64-le',
};

/** An image name systemd-sysext accepts: the file is NAME.raw, the release file extension-release.NAME. */
export function checkExtensionName(name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) || name.length > 200) {
    throw new DeblayerError(`'${name}' cannot name a system extension: letters, digits, '.', '_' and '-' only, not starting with a symbol`);
  }
}

export function extensionRelease(os: OsRelease, dpkgArchitecture: string, baseLabel: string): string {
  if (!os.ID) throw new DeblayerError(`the os-release of ${baseLabel} has no ID: systemd-sysext could not match the image to a host`);
  const lines = [`ID=${os.ID}`];
  if (os.SYSEXT_LEVEL) lines.push(`SYSEXT_LEVEL=${os.SYSEXT_LEVEL}`);
  else if (os.VERSION_ID) lines.push(`VERSION_ID=${os.VERSION_ID}`);
  else throw new DeblayerError(`the os-release of ${baseLabel} has neither VERSION_ID nor SYSEXT_LEVEL (a testing or unstable base): systemd-sysext could not match the image to a release`);
  const arch = ARCHITECTURES[dpkgArchitecture];
  if (arch) lines.push(`ARCHITECTURE=${arch}`);
  // systemd 255 and later reload the units after a merge, so that the image's units can be started.
  lines.push('EXTENSION_RELOAD_MANAGER=1');
  return `${lines.join('\n')}\n`;
}
