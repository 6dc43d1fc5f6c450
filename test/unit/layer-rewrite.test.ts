// The OSTree layer rewrite as a pure step: where each kind of entry goes, and
// the tmpfiles.d lines that recreate what a commit cannot carry.

import { describe, expect, it } from 'vitest';
import { LayerRewriter } from '../../src/compose/layer-rewrite.js';
import { formatTmpfilesLine, makesDirectory } from '../../src/vocabulary/tmpfiles.js';
import type { DebEntry } from '../../src/deb/index.js';
import { LayerMappingError } from '../../src/errors.js';

function entry(path: string, type: DebEntry['type'] = 'file', extra: Partial<DebEntry> = {}): DebEntry {
  return {
    path,
    type,
    mode: type === 'directory' ? 0o755 : 0o644,
    uid: 0,
    gid: 0,
    uname: 'root',
    gname: 'root',
    size: 0,
    mtime: 0,
    ...extra,
  };
}

function run(entries: DebEntry[]): { placements: (string | null)[]; lines: string[] } {
  const r = new LayerRewriter('pkg');
  const placements = entries.map((e) => {
    const p = r.place(e);
    return p.kind === 'tree' ? p.path : null;
  });
  return { placements, lines: r.tmpfiles.map(formatTmpfilesLine) };
}

describe('LayerRewriter', () => {
  it('keeps /usr and moves /etc to /usr/etc', () => {
    expect(run([entry('usr/bin/x'), entry('etc', 'directory'), entry('etc/x.conf')]).placements).toEqual([
      'usr/bin/x',
      'usr/etc',
      'usr/etc/x.conf',
    ]);
  });

  it('follows merged /usr for /bin, /sbin and /lib*', () => {
    const { placements } = run(['bin/sh', 'sbin/init', 'lib/x86_64-linux-gnu/libc.so.6', 'lib64/ld.so', 'lib32/x', 'libx32/y'].map((p) => entry(p)));
    expect(placements).toEqual([
      'usr/bin/sh',
      'usr/sbin/init',
      'usr/lib/x86_64-linux-gnu/libc.so.6',
      'usr/lib64/ld.so',
      'usr/lib32/x',
      'usr/libx32/y',
    ]);
  });

  it('turns /var into tmpfiles lines, keeping files in /usr/share/factory', () => {
    const { placements, lines } = run([
      entry('var', 'directory'),
      entry('var/spool/cron/crontabs', 'directory', { mode: 0o1730, gname: 'crontab' }),
      entry('var/lib/x/state', 'file', { mode: 0o640, uname: 'daemon' }),
      entry('var/lib/x/current', 'symlink', { linkTarget: 'state' }),
      entry('var/lib/x/fifo', 'fifo', { mode: 0o620 }),
      entry('var/lib/x/null', 'char-device', { mode: 0o666, devMajor: 1, devMinor: 3 }),
      entry('var/lib/x/loop', 'block-device', { mode: 0o660, gname: 'disk', devMajor: 7, devMinor: 0 }),
      entry('var/lib/x/link', 'hardlink', { linkTarget: 'var/lib/x/state' }),
    ]);
    expect(placements).toEqual([
      null,
      null,
      'usr/share/factory/var/lib/x/state',
      null,
      null,
      null,
      null,
      'usr/share/factory/var/lib/x/link',
    ]);
    expect(lines).toEqual([
      'd /var/spool/cron/crontabs 1730 root crontab -',
      'C /var/lib/x/state - - - - /usr/share/factory/var/lib/x/state',
      'L /var/lib/x/current - - - - state',
      'p /var/lib/x/fifo 0620 root root -',
      'c /var/lib/x/null 0666 root root - 1:3',
      'b /var/lib/x/loop 0660 root disk - 7:0',
      'C /var/lib/x/link - - - - /usr/share/factory/var/lib/x/link',
    ]);
  });

  it('uses numeric owners in tmpfiles lines when the archive has no names', () => {
    const { lines } = run([entry('var/lib/y', 'directory', { uname: '', gname: '', uid: 1234, gid: 5678, mode: 0o2750 })]);
    expect(lines).toEqual(['d /var/lib/y 2750 1234 5678 -']);
  });

  it('maps the directories OSTree hosts link into /var', () => {
    const { placements, lines } = run([
      entry('srv', 'directory'),
      entry('srv/www', 'directory'),
      entry('home/user', 'directory', { mode: 0o700 }),
      entry('root/.profile'),
      entry('mnt/data', 'directory'),
      entry('usr/local', 'directory'),
      entry('usr/local/bin', 'directory', { mode: 0o2775, gname: 'staff' }),
    ]);
    expect(placements).toEqual([null, null, null, 'usr/share/factory/var/roothome/.profile', null, null, null]);
    expect(lines).toEqual([
      'd /var/srv/www 0755 root root -',
      'd /var/home/user 0700 root root -',
      'C /var/roothome/.profile - - - - /usr/share/factory/var/roothome/.profile',
      'd /var/mnt/data 0755 root root -',
      'd /var/usrlocal/bin 2775 root staff -',
    ]);
  });

  it('moves /opt into /usr/lib/opt with one link per top entry, as rpm-ostree does', () => {
    const { placements, lines } = run([
      entry('opt', 'directory'),
      entry('opt/vendor', 'directory'),
      entry('opt/vendor/bin', 'directory'),
      entry('opt/vendor/bin/tool'),
    ]);
    expect(placements).toEqual([null, 'usr/lib/opt/vendor', 'usr/lib/opt/vendor/bin', 'usr/lib/opt/vendor/bin/tool']);
    expect(lines).toEqual(['L /var/opt/vendor - - - - /usr/lib/opt/vendor']);
  });

  it('recreates /run and /tmp directories and refuses files there', () => {
    expect(run([entry('run', 'directory'), entry('run/pkg', 'directory', { mode: 0o750 })]).lines).toEqual([
      'd /run/pkg 0750 root root -',
    ]);
    expect(() => run([entry('run/pkg.pid')])).toThrow("package pkg: cannot layer '/run/pkg.pid': /run is emptied at every boot");
  });

  it('moves kernels to /usr/lib/modules/VERSION and refuses other /boot content', () => {
    const { placements } = run([
      entry('boot', 'directory'),
      entry('boot/vmlinuz-6.1.0-9-amd64'),
      entry('boot/config-6.1.0-9-amd64'),
      entry('boot/System.map-6.1.0-9-amd64'),
      entry('boot/initrd.img-6.1.0-9-amd64'),
    ]);
    expect(placements).toEqual([
      null,
      'usr/lib/modules/6.1.0-9-amd64/vmlinuz',
      'usr/lib/modules/6.1.0-9-amd64/config',
      'usr/lib/modules/6.1.0-9-amd64/System.map',
      'usr/lib/modules/6.1.0-9-amd64/initramfs.img',
    ]);
    expect(() => run([entry('boot/grub', 'directory')])).toThrow(/cannot layer '\/boot\/grub': OSTree manages \/boot/);
    // A "version" that is a path component is no version.
    expect(() => run([entry('boot/vmlinuz-..')])).toThrow(/cannot layer '\/boot\/vmlinuz-\.\.'/);
  });

  it('refuses /dev, /proc, /sys, /media content and unknown top-level paths, naming them', () => {
    expect(() => run([entry('dev/null', 'char-device', { devMajor: 1, devMinor: 3 })])).toThrow(LayerMappingError);
    expect(() => run([entry('dev/null', 'char-device')])).toThrow("cannot layer '/dev/null'");
    expect(() => run([entry('proc/x')])).toThrow("cannot layer '/proc/x'");
    expect(() => run([entry('media/cdrom', 'directory')])).toThrow("cannot layer '/media/cdrom'");
    expect(() => run([entry('snap/x')])).toThrow("package pkg: cannot layer '/snap/x': OSTree commits carry only /usr and /etc");
    expect(() => run([entry('vmlinuz', 'symlink', { linkTarget: 'boot/vmlinuz' })])).toThrow("cannot layer '/vmlinuz'");
  });

  it('refuses device nodes and FIFOs where the commit would have to hold them', () => {
    expect(() => run([entry('usr/lib/x/fifo', 'fifo')])).toThrow("cannot layer '/usr/lib/x/fifo': OSTree commits cannot hold device nodes or FIFOs");
    expect(() => run([entry('etc/x/null', 'char-device', { devMajor: 1, devMinor: 3 })])).toThrow("cannot layer '/etc/x/null'");
  });

  it('keeps nothing for the package root and the top-level state directories', () => {
    const r = run([entry('', 'directory'), entry('var', 'directory'), entry('srv', 'directory'), entry('tmp', 'directory')]);
    expect(r.placements).toEqual([null, null, null, null]);
    expect(r.lines).toEqual([]);
  });

  it('escapes whitespace and specifiers in tmpfiles lines', () => {
    expect(run([entry('var/lib/a b%c', 'symlink', { linkTarget: 'x\ty' })]).lines).toEqual([
      'L /var/lib/a\\x20b%%c - - - - x\\x09y',
    ]);
  });
});

describe('tmpfiles.d line types', () => {
  it('tells the types that make a directory, with their modifiers, from the others', () => {
    expect(['d', 'D', 'v', 'q', 'Q', 'd-', 'D!', 'd+'].filter(makesDirectory)).toEqual(['d', 'D', 'v', 'q', 'Q', 'd-', 'D!', 'd+']);
    expect(['f', 'z', 'L', 'C', 'e', 'x', 'r', 'L+', '#', 'dd'].filter(makesDirectory)).toEqual([]);
  });
});
