"""Makes a deployment the default at the next boot by moving it to the front
of the deployment list, without deploying anything again: the ostree CLI of
2022.7 has no `admin set-default`. rpm-ostree's rollback does the same:
reorder, then write_deployments()."""

import sys

from .binding import open_sysroot


def main(args, input):
    path, stateroot, checksum, serial = args[0], args[1], args[2], int(args[3])
    sysroot = open_sysroot(path)
    sysroot.lock()
    try:
        deployments = sysroot.get_deployments()
        target = [d for d in deployments if d.get_osname() == stateroot and d.get_csum() == checksum and d.get_deployserial() == serial]
        if not target:
            sys.stderr.write('no deployment %s.%d of %s\n' % (checksum, serial, stateroot))
            sys.exit(3)
        rest = [d for d in deployments if d is not target[0]]
        sysroot.write_deployments([target[0]] + rest, None)
    finally:
        sysroot.unlock()
