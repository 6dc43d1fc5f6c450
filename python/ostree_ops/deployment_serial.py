"""The serial of the newest deployment of a commit in a stateroot (ostree
lists deployments newest first), or None: what a deploy needs to name its
deployment, without another `ostree admin status`."""

from .binding import open_sysroot


def main(args, input):
    path, stateroot, checksum = args
    for d in open_sysroot(path).get_deployments():
        if d.get_osname() == stateroot and d.get_csum() == checksum:
            return d.get_deployserial()
    return None
