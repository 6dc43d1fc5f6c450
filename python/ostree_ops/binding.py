"""libostree through its GObject introspection binding in Debian's python3
(gir1.2-ostree-1.0, python3-gi), imported once for every program."""

import gi

gi.require_version('OSTree', '1.0')
from gi.repository import Gio, GLib, OSTree

__all__ = ['Gio', 'GLib', 'OSTree', 'open_repo', 'open_sysroot']


def open_repo(path):
    repo = OSTree.Repo.new(Gio.File.new_for_path(path))
    repo.open(None)
    return repo


def open_sysroot(path):
    sysroot = OSTree.Sysroot.new(Gio.File.new_for_path(path))
    sysroot.load(None)
    return sysroot
