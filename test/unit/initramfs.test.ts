// The boot check of base import and deblayer image: whether an initramfs
// holds ostree-prepare-root, read from its cpio archives without unpacking,
// and where the partitions of an image go. Real initramfs files are checked
// by the boot tests (the bootable bases' dracut images).

import { execa } from 'execa';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, test } from 'vitest';
import { compress as zstdCompress } from 'zstd-napi';
import { checkBootable, PREPARE_ROOT } from '../../src/base/bootable.js';
import { initramfsHolds } from '../../src/base/initramfs.js';
import { defaultEntry, grubConfig } from '../../src/image/bootloader.js';
import { diskLayout, parseSize, sfdiskScript } from '../../src/image/disk-layout.js';

const work = mkdtempSync(join(tmpdir(), 'deblayer-initramfs-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A newc cpio archive of FILES (name -> content), as dracut and cpio -H newc write it. */
function cpio(files: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  let ino = 1;
  const pad = (n: number) => Buffer.alloc((4 - (n % 4)) % 4);
  for (const [name, content] of [...Object.entries(files), ['TRAILER!!!', ''] as const]) {
    const data = Buffer.from(content);
    const hex = (n: number) => n.toString(16).padStart(8, '0');
    const header = '070701' + [ino++, 0o100644, 0, 0, 1, 0, data.length, 0, 0, 0, 0, name.length + 1, 0].map(hex).join('');
    const head = Buffer.concat([Buffer.from(header), Buffer.from(name + '\0')]);
    parts.push(head, pad(head.length), data, pad(data.length));
  }
  const all = Buffer.concat(parts);
  return Buffer.concat([all, Buffer.alloc((512 - (all.length % 512)) % 512)]);
}

const MAIN = { 'usr/bin/sh': '#!', [PREPARE_ROOT[0]!]: 'ELF', 'etc/fstab': '' };
const WITHOUT = { 'usr/bin/sh': '#!', 'usr/lib/systemd/systemd': 'ELF' };

async function compressed(kind: 'gzip' | 'xz' | 'zstd', data: Buffer): Promise<Buffer> {
  if (kind === 'gzip') return gzipSync(data);
  if (kind === 'zstd') return zstdCompress(data);
  const r = await execa('xz', ['-c'], { input: data, encoding: 'buffer' });
  return Buffer.from(r.stdout);
}

describe('initramfsHolds', () => {
  for (const kind of ['gzip', 'xz', 'zstd'] as const) {
    test(`finds ostree-prepare-root in a ${kind} archive behind an uncompressed early cpio, and says when it is not there`, async () => {
      const early = cpio({ 'kernel/x86/microcode/GenuineIntel.bin': 'ucode' });
      const withIt = join(work, `with.${kind}`);
      const without = join(work, `without.${kind}`);
      writeFileSync(withIt, Buffer.concat([early, await compressed(kind, cpio(MAIN))]));
      writeFileSync(without, Buffer.concat([early, await compressed(kind, cpio(WITHOUT))]));
      expect(await initramfsHolds(withIt, PREPARE_ROOT)).toBe(PREPARE_ROOT[0]);
      expect(await initramfsHolds(without, PREPARE_ROOT)).toBeUndefined();
    });
  }

  test('finds it in an uncompressed archive, and names a compression it cannot read', async () => {
    const plain = join(work, 'plain');
    writeFileSync(plain, cpio(MAIN));
    expect(await initramfsHolds(plain, PREPARE_ROOT)).toBe(PREPARE_ROOT[0]);
    const lz4 = join(work, 'lz4');
    writeFileSync(lz4, Buffer.concat([cpio({ a: 'b' }), Buffer.from([0x02, 0x21, 0x4c, 0x18, 0, 0])]));
    await expect(initramfsHolds(lz4, PREPARE_ROOT)).rejects.toThrow(/lz4 compression/);
  });
});

describe('checkBootable', () => {
  function tree(name: string, files: Record<string, Buffer | string>): string {
    const root = join(work, name);
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(join(root, path, '..'), { recursive: true });
      writeFileSync(join(root, path), content);
    }
    return root;
  }
  const bzImage = Buffer.alloc(0x300);
  bzImage.write('HdrS', 0x202, 'latin1');

  test('a kernel with an initramfs that mounts the deployment boots', async () => {
    const root = tree('good', { 'usr/lib/modules/6.1.0-9-amd64/vmlinuz': bzImage, 'usr/lib/modules/6.1.0-9-amd64/initramfs.img': gzipSync(cpio(MAIN)) });
    expect(await checkBootable(root, '6.1.0-9-amd64')).toEqual({ kernelVersion: '6.1.0-9-amd64', problems: [] });
  });

  test('says what is missing: no kernel, not a kernel, no initramfs, an initramfs-tools image without ostree', async () => {
    expect((await checkBootable(work, undefined)).problems).toEqual([expect.stringMatching(/^no kernel/)]);
    const stand = tree('stand-in', { 'usr/lib/modules/6.1.0-0/vmlinuz': 'not a kernel\n' });
    expect((await checkBootable(stand, '6.1.0-0')).problems).toEqual([
      expect.stringMatching(/vmlinuz is not a Linux kernel image/),
      expect.stringMatching(/has no initramfs \(install dracut and ostree-boot/),
    ]);
    const tools = tree('initramfs-tools', { 'usr/lib/modules/6.1.0-9-amd64/vmlinuz': bzImage, 'usr/lib/modules/6.1.0-9-amd64/initramfs.img': gzipSync(cpio(WITHOUT)) });
    expect((await checkBootable(tools, '6.1.0-9-amd64')).problems).toEqual([expect.stringMatching(/has no ostree-prepare-root, so it cannot mount an OSTree deployment/)]);
  });
});

describe('disk layout', () => {
  test('a GPT disk: a 64 MiB ESP at 1 MiB, the root after it, room for the tree and as much again', () => {
    const tree = 700 * 1024 * 1024;
    const layout = diskLayout(tree);
    expect(layout.esp).toMatchObject({ offset: 1024 * 1024, size: 64 * 1024 * 1024, filesystem: 'vfat' });
    expect(layout.root.offset).toBe(65 * 1024 * 1024);
    expect(layout.root.size).toBeGreaterThan(2 * tree);
    expect(layout.size).toBe(layout.root.offset + layout.root.size + 1024 * 1024);
    expect(sfdiskScript(layout)).toBe(
      `label: gpt\nstart=2048, size=131072, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="EFI System"\n` +
        `start=133120, size=${layout.root.size / 512}, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, name="deblayer-root"\n`,
    );
  });

  test('--size: the whole image; too small names the least that holds the tree', () => {
    expect(diskLayout(100 * 1024 * 1024, parseSize('4G')).size).toBe(4 * 1024 ** 3);
    expect(() => diskLayout(900 * 1024 * 1024, parseSize('1G'))).toThrow(/--size 1G is too small: the tree needs at least 1\.3G/);
    expect(parseSize('3.5GiB')).toBe(3.5 * 1024 ** 3);
    expect(() => parseSize('big')).toThrow(/invalid size 'big'/);
  });
});

describe('boot entries', () => {
  test('GRUB finds the root by label and boots the default of the syslinux.cfg libostree writes', () => {
    expect(grubConfig('deblayer-root')).toContain('search --no-floppy --label deblayer-root --set=root\nsyslinux_source /boot/syslinux/syslinux.cfg\nboot\n');
    const cfg = [
      'PROMPT 0',
      'DEFAULT Debian GNU/Linux 12 (bookworm) 12 (ostree:debian:0)',
      '',
      'LABEL Debian GNU/Linux 12 (bookworm) 12 (ostree:debian:1)',
      '\tKERNEL /boot/ostree/debian-aa/vmlinuz-6.1.0-50-amd64',
      '\tAPPEND root=LABEL=deblayer-root rw ostree=/ostree/boot.1/debian/aa/1',
      'LABEL Debian GNU/Linux 12 (bookworm) 12 (ostree:debian:0)',
      '\tKERNEL /boot/ostree/debian-bb/vmlinuz-6.1.0-50-amd64',
      '\tAPPEND root=LABEL=deblayer-root rw ostree=/ostree/boot.1/debian/bb/0',
    ].join('\n');
    expect(defaultEntry(cfg)).toEqual({
      label: 'Debian GNU/Linux 12 (bookworm) 12 (ostree:debian:0)',
      kernel: '/boot/ostree/debian-bb/vmlinuz-6.1.0-50-amd64',
      append: 'root=LABEL=deblayer-root rw ostree=/ostree/boot.1/debian/bb/0',
    });
    expect(defaultEntry('PROMPT 0\n')).toBeUndefined();
  });
});
