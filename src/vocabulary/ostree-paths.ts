// Where a Debian path goes on an OSTree system: the map that base import
// applies to a whole tree and the layer rewrite applies to each package
// file, so that a base and its layers agree.

/** Files of /var (and the directories linked into it) travel in the commit here, copied into place at boot. */
export const FACTORY = 'usr/share/factory';

/** The merged-/usr directories at the top of a Debian tree. */
export const MERGED_USR = ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32'];

/** Where a path of a dpkg .list file is in an OSTree tree (etc in usr/etc, merged /usr). */
export function treePathOf(listed: string): string {
  const p = listed.replace(/^\/+/, '');
  const top = p.split('/', 1)[0]!;
  return top === 'etc' || MERGED_USR.includes(top) ? `usr/${p}` : p;
}

/** Top-level directories that are symlinks into /var on an OSTree host. */
export const STATE_HOMES: Record<string, string> = {
  var: '/var',
  srv: '/var/srv',
  home: '/var/home',
  root: '/var/roothome',
  mnt: '/var/mnt',
};

/** /etc as shipped: the defaults ostree merges into each deployment's /etc. */
export function etcDefaults(rest: string): string {
  return rest ? `usr/etc/${rest}` : 'usr/etc';
}

const KERNEL_FILES: [RegExp, string][] = [
  [/^vmlinuz-(.+)$/, 'vmlinuz'],
  [/^initrd\.img-(.+)$/, 'initramfs.img'],
  [/^config-(.+)$/, 'config'],
  [/^System\.map-(.+)$/, 'System.map'],
];

export interface KernelFile {
  version: string;
  /** The file's name in usr/lib/modules/VERSION (vmlinuz, initramfs.img, config, System.map). */
  name: string;
  /** Where it goes in the tree: usr/lib/modules/VERSION/NAME. */
  path: string;
}

/** Where ostree expects a /boot file named NAME (vmlinuz-V, initrd.img-V, ...): undefined for any other. */
export function kernelFile(name: string): KernelFile | undefined {
  for (const [pattern, target] of KERNEL_FILES) {
    const m = pattern.exec(name);
    if (m && m[1] !== '.' && m[1] !== '..') return { version: m[1]!, name: target, path: `usr/lib/modules/${m[1]}/${target}` };
  }
  return undefined;
}
