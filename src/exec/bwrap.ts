// bwrap(1), bubblewrap: the only module that spawns it. The sandbox where
// maintainer scripts run, built as a plain list of arguments (as mkosi's
// sandbox.py does), so that what it allows can be read in one place:
//   - the tree's /usr at /usr and its /usr/etc at /etc, a scratch /var, the
//     merged-/usr and OSTree links (/bin -> usr/bin, /home -> var/home, ...);
//     bwrap builds / on its own tmpfs, so its mount points never land in a view;
//   - a fresh /proc, /dev, /run and /tmp (/tmp, /dev/shm, /run/lock sticky and
//     world-writable, as on a host); no network, its own pid, ipc and uts;
//   - every capability dropped but those package scripts need: chown and
//     friends for files, setuid/setgid (man-db's setpriv fails without them,
//     and its postinst hides the failure), sys_chroot, setfcap (setcap);
//   - an environment cleared to what dpkg gives scripts offline.
// It runs inside deblayer's private mount namespace, where the views are mounted.

import type { MountNamespace } from './namespace.js';
import type { RunOptions, RunResult } from './run.js';

export const SANDBOX_CAPABILITIES = [
  'cap_chown',
  'cap_dac_override',
  'cap_dac_read_search',
  'cap_fowner',
  'cap_fsetid',
  'cap_kill',
  'cap_setgid',
  'cap_setuid',
  'cap_setpcap',
  'cap_sys_chroot',
  'cap_setfcap',
];

export const SANDBOX_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface SandboxSpec {
  /** Host path of the tree's usr directory (a writable view), seen as /usr; its etc is /etc. */
  usr: string;
  /** Host path seen as /var. */
  var: string;
  /** Extra read-only binds, e.g. control files at /run/deblayer-ci. */
  readOnly?: { source: string; dest: string }[];
  /** Variables added to the cleared environment. */
  env?: Record<string, string>;
  /** A socket to bind at /dev/log (syslog-sink.ts): what scripts log is read back. */
  devLog?: string;
}

export function bwrapArgs(spec: SandboxSpec, command: string[]): string[] {
  const args = ['--bind', spec.usr, '/usr', '--bind', `${spec.usr}/etc`, '/etc', '--bind', spec.var, '/var'];
  for (const [link, target] of [
    ['/bin', 'usr/bin'],
    ['/sbin', 'usr/sbin'],
    ['/lib', 'usr/lib'],
    ['/lib64', 'usr/lib64'],
    ['/home', 'var/home'],
    ['/root', 'var/roothome'],
    ['/opt', 'var/opt'],
    ['/srv', 'var/srv'],
    ['/mnt', 'var/mnt'],
    ['/media', 'run/media'],
  ] as const) {
    args.push('--symlink', target, link);
  }
  args.push('--dir', '/boot', '--proc', '/proc', '--dev', '/dev', '--tmpfs', '/run');
  // bwrap makes these 0755 root; a host has them 1777, and scripts that drop to a
  // system user write there (mariadb-install-db's InnoDB temporary files in /tmp).
  args.push('--perms', '1777', '--tmpfs', '/tmp', '--perms', '1777', '--dir', '/run/lock', '--perms', '1777', '--tmpfs', '/dev/shm');
  if (spec.devLog) args.push('--bind', spec.devLog, '/dev/log');
  for (const b of spec.readOnly ?? []) args.push('--ro-bind', b.source, b.dest);
  args.push('--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-net', '--unshare-cgroup-try', '--hostname', 'localhost');
  args.push('--die-with-parent', '--new-session', '--cap-drop', 'ALL');
  for (const cap of SANDBOX_CAPABILITIES) args.push('--cap-add', cap);
  const env: Record<string, string> = {
    PATH: SANDBOX_PATH,
    LANG: 'C.UTF-8',
    HOME: '/root',
    DEBIAN_FRONTEND: 'noninteractive',
    DEBCONF_NONINTERACTIVE_SEEN: 'true',
    SYSTEMD_OFFLINE: '1',
    DPKG_ROOT: '',
    ...spec.env,
  };
  args.push('--clearenv');
  for (const [k, v] of Object.entries(env)) args.push('--setenv', k, v);
  args.push('--chdir', '/', '--', ...command);
  return args;
}

/** Runs COMMAND in the sandbox; output comes back on stdout (stderr folded in by the caller's sh). */
export function runSandboxed(ns: MountNamespace, spec: SandboxSpec, command: string[], what: string, options: RunOptions = {}): Promise<RunResult> {
  return ns.run('bwrap', bwrapArgs(spec, command), what, options);
}
