"""A layer read back from overlay upper directories, committed on top of
another commit: what maintainer scripts changed.

Through libostree, not `ostree commit --tree=dir=`, for two things the CLI
cannot do: delete paths (an overlay whiteout, a character device 0:0, or an
opaque directory, marked trusted.overlay.opaque=y, stands for a deleted
path), and leave out the overlay's own trusted.overlay.* attributes (origin,
impure) that copy-ups carry, while keeping the others (security.capability
from setcap).

Input: {repo, onto, dir, parent, branch, subject, metadata}. The whiteouts
are removed from DIR. Result: {commit, removed: the deleted paths that ONTO
had}."""

import os
import stat

from .binding import Gio, GLib, OSTree, commit_metadata, open_repo, transaction


def remove(mtree, path):
    """Deletes PATH from MTREE; False if it was not there. MutableTree.walk()
    through PyGObject only takes the first path element: the tree is walked
    by get_subdirs() instead."""
    parts = path.split('/')
    node = mtree
    for p in parts[:-1]:
        subs = node.get_subdirs()
        if p not in subs:
            return False
        node = subs[p]
    try:
        node.remove(parts[-1], False)
    except GLib.Error:
        return False
    return True


def deletions(mtree, top):
    """Applies the whiteouts and opaque directories under TOP to MTREE; returns the paths deleted."""
    removed = []
    for root, dirs, files in os.walk(top):
        rel = os.path.relpath(root, top)
        for name in list(dirs) + files:
            full = os.path.join(root, name)
            path = name if rel == '.' else rel + '/' + name
            st = os.lstat(full)
            if stat.S_ISCHR(st.st_mode) and st.st_rdev == 0:
                if remove(mtree, path):
                    removed.append(path)
                os.unlink(full)
            elif stat.S_ISDIR(st.st_mode):
                try:
                    opaque = os.getxattr(full, 'trusted.overlay.opaque', follow_symlinks=False) == b'y'
                except OSError:
                    opaque = False
                # The directory's content in TOP replaces the old one whole.
                if opaque and remove(mtree, path):
                    removed.append(path)
    return removed


def xattr_callback(top):
    def xattrs(repo, path, info):
        full = os.path.join(top, path.lstrip('/'))
        out = []
        try:
            names = os.listxattr(full, follow_symlinks=False)
        except OSError:
            names = []
        for n in sorted(names):
            if n.startswith('trusted.overlay.'):
                continue
            out.append((n.encode() + b'\0', os.getxattr(full, n, follow_symlinks=False)))
        return GLib.Variant('a(ayay)', out)
    return xattrs


def main(args, job):
    top = job['dir']
    repo = open_repo(job['repo'])
    mtree = OSTree.MutableTree.new_from_commit(repo, job['onto'])
    removed = deletions(mtree, top)
    modifier = OSTree.RepoCommitModifier.new(OSTree.RepoCommitModifierFlags.NONE, None)
    modifier.set_xattr_callback(xattr_callback(top))
    with transaction(repo):
        repo.write_directory_to_mtree(Gio.File.new_for_path(top), mtree, modifier, None)
        _, root = repo.write_mtree(mtree, None)
        _, checksum = repo.write_commit(job['parent'], job['subject'], None, commit_metadata(job['metadata']), root, None)
        repo.transaction_set_ref(None, job['branch'], checksum)
    return {'commit': checksum, 'removed': removed}
