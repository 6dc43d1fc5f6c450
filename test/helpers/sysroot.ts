// Fake OSTree sysroots for tests, made with the real `ostree admin`: on a tmpfs
// mounted in the test run's private mount namespace (test/run.sh starts vitest
// under `unshare --mount`), never on the machine's own file systems, since
// `ostree admin deploy` freezes the file system it deploys to.

import { execa } from 'execa';
import { mkdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestSysroot {
  path: string;
  deploy(ref: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * test/run.sh records the mount namespace it started in and the private one it
 * made (/proc/1/ns/mnt is not readable in every sandbox, so it cannot be asked).
 */
export function inPrivateMountNamespace(): boolean {
  const here = readlinkSync('/proc/self/ns/mnt');
  const { DEBLAYER_HOST_MNT_NS: host, DEBLAYER_PRIVATE_MNT_NS: mine } = process.env;
  return !!host && !!mine && here === mine && here !== host;
}

export async function makeSysroot(path: string, sourceRepo: string, os = 'fx', size = '512m'): Promise<TestSysroot> {
  if (!inPrivateMountNamespace()) {
    throw new Error('sysroot tests must run in a private mount namespace: run them with npm test (unshare --mount)');
  }
  mkdirSync(path, { recursive: true });
  await execa('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', path]);
  const ostree = (args: string[]) => execa('ostree', args, { env: { LC_ALL: 'C' } });
  try {
    await ostree(['admin', 'init-fs', path]);
    await ostree(['admin', 'os-init', os, `--sysroot=${path}`]);
  } catch (err) {
    await execa('umount', [path], { reject: false });
    throw err;
  }
  return {
    path,
    async deploy(ref: string) {
      await ostree([`--repo=${path}/ostree/repo`, 'pull-local', sourceRepo, ref]);
      await ostree(['admin', 'deploy', `--sysroot=${path}`, `--os=${os}`, '--retain', ref]);
    },
    async close() {
      await execa('umount', ['--lazy', path], { reject: false });
      rmSync(path, { recursive: true, force: true });
    },
  };
}

/**
 * Extracts the real base tarball into DIR with a stand-in kernel (ostree admin
 * deploy refuses a tree without one); the tests never boot it.
 */
export async function extractBootableBase(tarball: string, dir: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  await execa('tar', ['--numeric-owner', '-xpf', tarball, '-C', dir]);
  writeFileSync(join(dir, 'boot/vmlinuz-6.1.0-0-stand-in'), 'not a kernel\n');
  writeFileSync(join(dir, 'boot/initrd.img-6.1.0-0-stand-in'), 'not an initrd\n');
  mkdirSync(join(dir, 'usr/lib/modules/6.1.0-0-stand-in'), { recursive: true });
  return dir;
}
