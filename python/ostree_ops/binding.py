"""libostree through its GObject introspection binding in Debian's python3
(gir1.2-ostree-1.0, python3-gi), imported once for every program."""

from contextlib import contextmanager

import gi

gi.require_version('OSTree', '1.0')
from gi.repository import Gio, GLib, OSTree

__all__ = ['Gio', 'GLib', 'OSTree', 'commit_metadata', 'open_repo', 'open_sysroot', 'transaction']


def open_repo(path):
    repo = OSTree.Repo.new(Gio.File.new_for_path(path))
    repo.open(None)
    return repo


def open_sysroot(path):
    sysroot = OSTree.Sysroot.new(Gio.File.new_for_path(path))
    sysroot.load(None)
    return sysroot


@contextmanager
def transaction(repo):
    """A libostree transaction on REPO: committed when the block ends, aborted
    (nothing published) when it raises."""
    repo.prepare_transaction(None)
    try:
        yield
        repo.commit_transaction(None)
    except BaseException:
        repo.abort_transaction(None)
        raise


def commit_metadata(values, branch=None):
    """Commit metadata of string VALUES; bound to BRANCH as `ostree commit
    --branch` binds a commit, when given."""
    metadata = GLib.VariantDict.new(None)
    for key, value in values.items():
        metadata.insert_value(key, GLib.Variant('s', value))
    if branch is not None:
        metadata.insert_value('ostree.ref-binding', GLib.Variant('as', [branch]))
    return metadata.end()
