// libostree, through its GObject introspection binding in Debian's python3
// (gir1.2-ostree-1.0, python3-gi): the only place that runs it. Used for what
// the ostree CLI of 2022.7 cannot do: making another deployment the default
// without deploying anything again (`ostree admin set-default` came later).
// rpm-ostree's rollback does the same: reorder, then write_deployments().
// This module is the only one that spawns /usr/bin/python3.

import { CommandError } from '../errors.js';
import { run } from './run.js';

// /usr/bin/python3, not the first python3 on PATH: the binding is Debian's.
const PYTHON = '/usr/bin/python3';

const SET_DEFAULT = `
import sys
import gi
gi.require_version('OSTree', '1.0')
from gi.repository import Gio, OSTree
path, stateroot, checksum, serial = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
sysroot = OSTree.Sysroot.new(Gio.File.new_for_path(path))
sysroot.load(None)
sysroot.lock()
try:
    deployments = sysroot.get_deployments()
    target = [d for d in deployments if d.get_osname() == stateroot and d.get_csum() == checksum and d.get_deployserial() == serial]
    if not target:
        sys.stderr.write('no deployment %s.%d of %s\\n' % (checksum, serial, stateroot))
        sys.exit(3)
    rest = [d for d in deployments if d is not target[0]]
    sysroot.write_deployments([target[0]] + rest, None)
finally:
    sysroot.unlock()
`;

/** Moves a deployment to the front of the list: it becomes the default at the next boot. */
export async function setDefaultDeployment(sysroot: string, stateroot: string, checksum: string, serial: number): Promise<void> {
  const r = await run(PYTHON, ['-c', SET_DEFAULT, sysroot, stateroot, checksum, String(serial)], 'cannot change the default deployment', {
    allowFailure: true,
  });
  if (r.exitCode !== 0) {
    const why = /No module named 'gi'|Namespace OSTree not available/.test(r.stderr)
      ? 'libostree\'s python binding is missing (apt-get install gir1.2-ostree-1.0 python3-gi)'
      : r.stderr.trim().split('\n').pop() ?? `exit status ${r.exitCode}`;
    throw new CommandError('libostree', `cannot make ${checksum.slice(0, 10)}.${serial} the default deployment: ${why}`, { detail: r.stderr });
  }
}
