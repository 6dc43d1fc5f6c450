// Where each entry of a package goes in an OSTree layer. A commit carries only
// /usr (plus the /etc defaults as /usr/etc); everything else a package ships is
// moved into /usr or turned into tmpfiles.d lines that recreate it at boot:
//
//   etc/...                    -> usr/etc/...            (ostree merges /etc at deploy)
//   bin, sbin, lib, lib64, ... -> usr/...                (merged /usr: the base has symlinks there)
//   var/...                    -> tmpfiles: d (dirs), L (symlinks), p/c/b (nodes);
//                                 files kept as usr/share/factory/var/... with a C line
//   srv, home, root, mnt,      -> same, at their OSTree homes /var/srv, /var/home,
//   usr/local                     /var/roothome, /var/mnt, /var/usrlocal
//   opt/NAME/...               -> usr/lib/opt/NAME/... + L /var/opt/NAME (as rpm-ostree does)
//   run/..., tmp/...           -> tmpfiles d lines (directories only)
//   boot/vmlinuz-V etc.        -> usr/lib/modules/V/vmlinuz, config, System.map, initramfs.img
//   anything else              -> LayerMappingError naming the entry
//
// Pure: it decides and records, the TreeWriter writes. That keeps it testable
// without a filesystem and lets the file list of the original paths (for the
// dpkg database) stay untouched.

import type { DebEntry } from '../deb/index.js';
import { LayerMappingError } from '../errors.js';
import { octalMode, type TmpfilesLine } from '../vocabulary/tmpfiles.js';
import { etcDefaults, FACTORY, kernelFile, MERGED_USR, STATE_HOMES } from '../vocabulary/ostree-paths.js';

export type Placement =
  /** Written into the layer tree at `path` (relative to the tree root). */
  | { kind: 'tree'; path: string }
  /** Not in the tree: recreated on the host by a tmpfiles line, or already provided by every OSTree base. */
  | { kind: 'host' };

const MERGED = new Set(MERGED_USR);

/** Entry types a commit can hold (OSTree stores regular files, symlinks and directories). */
const COMMITTABLE = new Set<DebEntry['type']>(['file', 'hardlink', 'symlink', 'directory']);

const HOST = { kind: 'host' } as const;

export class LayerRewriter {
  readonly tmpfiles: TmpfilesLine[] = [];

  constructor(readonly packageName: string) {}

  private fail(entry: DebEntry, why: string): never {
    throw new LayerMappingError(this.packageName, entry.path, why);
  }

  private owner(entry: DebEntry): { user: string; group: string } {
    return { user: entry.uname || String(entry.uid), group: entry.gname || String(entry.gid) };
  }

  place(entry: DebEntry): Placement {
    const placement = this.placeAny(entry);
    if (placement.kind === 'tree' && !COMMITTABLE.has(entry.type)) {
      this.fail(entry, 'OSTree commits cannot hold device nodes or FIFOs outside /var (where tmpfiles.d makes them)');
    }
    return placement;
  }

  private placeAny(entry: DebEntry): Placement {
    if (entry.path === '') return HOST;
    const parts = entry.path.split('/');
    const top = parts[0]!;
    const rest = parts.slice(1).join('/');
    if (top === 'usr') {
      if (parts[1] === 'local') {
        return parts.length === 2 ? HOST : this.toState(entry, `/var/usrlocal/${parts.slice(2).join('/')}`);
      }
      return { kind: 'tree', path: entry.path };
    }
    if (top === 'etc') return { kind: 'tree', path: etcDefaults(rest) };
    if (MERGED.has(top)) return { kind: 'tree', path: `usr/${entry.path}` };
    const home = STATE_HOMES[top];
    if (home !== undefined) {
      // The top directory itself exists on every OSTree host.
      return rest === '' ? HOST : this.toState(entry, `${home}/${rest}`);
    }
    switch (top) {
      case 'opt':
        return this.placeOpt(entry, parts.slice(1));
      case 'run':
      case 'tmp':
        if (rest === '') return HOST;
        if (entry.type !== 'directory') {
          this.fail(entry, `/${top} is emptied at every boot; only directories can be recreated there`);
        }
        this.tmpfiles.push({ type: 'd', path: `/${entry.path}`, mode: octalMode(entry.mode), ...this.owner(entry) });
        return HOST;
      case 'boot':
        return rest === '' ? HOST : this.placeBoot(entry, parts.slice(1));
      case 'dev':
      case 'proc':
      case 'sys':
        if (rest === '' && entry.type === 'directory') return HOST;
        return this.fail(entry, `/${top} is provided by the kernel at boot and cannot hold package files`);
      case 'media':
        if (rest === '' && entry.type === 'directory') return HOST;
        return this.fail(entry, '/media is a link to /run/media on OSTree hosts and is emptied at every boot');
      default:
        return this.fail(entry, `OSTree commits carry only /usr and /etc, and deblayer has no mapping for '/${top}'`);
    }
  }

  /** Content of /var (and the directories linked into it) becomes tmpfiles lines. */
  private toState(entry: DebEntry, hostPath: string): Placement {
    const { user, group } = this.owner(entry);
    const mode = octalMode(entry.mode);
    switch (entry.type) {
      case 'directory':
        this.tmpfiles.push({ type: 'd', path: hostPath, mode, user, group });
        return HOST;
      case 'symlink':
        this.tmpfiles.push({ type: 'L', path: hostPath, argument: entry.linkTarget! });
        return HOST;
      case 'file':
      case 'hardlink': {
        // The file travels in the commit under /usr/share/factory and is copied
        // into /var at boot if missing; its mode and owner come with the copy.
        const factory = `${FACTORY}${hostPath}`;
        this.tmpfiles.push({ type: 'C', path: hostPath, argument: `/${factory}` });
        return { kind: 'tree', path: factory };
      }
      case 'fifo':
        this.tmpfiles.push({ type: 'p', path: hostPath, mode, user, group });
        return HOST;
      case 'char-device':
      case 'block-device':
        this.tmpfiles.push({
          type: entry.type === 'char-device' ? 'c' : 'b',
          path: hostPath,
          mode,
          user,
          group,
          argument: `${entry.devMajor}:${entry.devMinor}`,
        });
        return HOST;
    }
  }

  /** /opt is /var/opt on OSTree hosts: ship the content in /usr/lib/opt and link each top entry. */
  private placeOpt(entry: DebEntry, sub: string[]): Placement {
    if (sub.length === 0) return HOST;
    if (sub.length === 1) {
      this.tmpfiles.push({ type: 'L', path: `/var/opt/${sub[0]}`, argument: `/usr/lib/opt/${sub[0]}` });
    }
    return { kind: 'tree', path: `usr/lib/opt/${sub.join('/')}` };
  }

  /** OSTree manages /boot itself; kernels are found in usr/lib/modules/VERSION. */
  private placeBoot(entry: DebEntry, sub: string[]): Placement {
    if (sub.length === 1 && (entry.type === 'file' || entry.type === 'hardlink')) {
      const kernel = kernelFile(sub[0]!);
      if (kernel) return { kind: 'tree', path: kernel.path };
    }
    return this.fail(
      entry,
      'OSTree manages /boot; deblayer relocates only kernel files (vmlinuz-, initrd.img-, config-, System.map-VERSION) to /usr/lib/modules/VERSION',
    );
  }
}
