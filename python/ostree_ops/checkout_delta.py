"""What one commit has that another lacks, under one directory, checked out
as hardlinks to the repository's objects: changed and new files, the
directories that hold them (with the newer commit's metadata) and overlayfs
whiteouts (character devices 0:0) for what it removed. Over a checkout of the
older commit (an overlay's lower layers, newer first) it reads as the newer
one: the scripts' view of a composed commit over a deployment of its base.

Whole subtrees whose dirtree and dirmeta checksums are equal are skipped, so
the cost follows the difference, not the tree (a hardlink checkout of a large
base costs seconds, for a difference of a few hundred paths).

Args: repository, older, newer, subpath, destination (new, on the
repository's file system). Result: the number of files and whiteouts
written. Exit status 4: the repository is not in bare mode."""

import os
import stat
import sys

from . import dirtree
from .binding import OSTree, open_repo


def checksum_of(v):
    return v.get_data_as_bytes().get_data().hex()


def be32(x):
    # A dirmeta's uid, gid and mode are stored big-endian; unpack() gives them
    # in the host's order (little-endian on the machines deblayer runs on).
    return int.from_bytes(x.to_bytes(4, 'little'), 'big')


class Delta:
    def __init__(self, repo, objects):
        self.repo = repo
        self.objects = objects
        self.count = 0

    def dirtree(self, checksum):
        """(files: name -> content checksum, dirs: name -> (dirtree, dirmeta)) of a dirtree object."""
        files, dirs = dirtree.read(self.repo, checksum)
        return dict(files), {name: (tree, meta) for name, tree, meta in dirs}

    def root(self, rev, sub):
        """(dirtree, dirmeta) of SUB in the commit REV names."""
        _, rev = self.repo.resolve_rev(rev, False)
        c = self.repo.load_variant(OSTree.ObjectType.COMMIT, rev)[1]
        tree, meta = checksum_of(c.get_child_value(6)), checksum_of(c.get_child_value(7))
        for part in [p for p in sub.split('/') if p]:
            tree, meta = self.dirtree(tree)[1][part]
        return tree, meta

    def mkdir(self, path, meta):
        uid, gid, mode, xattrs = self.repo.load_variant(OSTree.ObjectType.DIR_META, meta)[1].unpack()
        os.mkdir(path)
        os.chown(path, be32(uid), be32(gid))
        os.chmod(path, stat.S_IMODE(be32(mode)))
        for k, v in xattrs:
            os.setxattr(path, bytes(k).rstrip(b'\0'), bytes(v), follow_symlinks=False)

    def walk(self, otree, ntree, path):
        ofiles, odirs = self.dirtree(otree) if otree else ({}, {})
        nfiles, ndirs = self.dirtree(ntree)
        for name, c in nfiles.items():
            if ofiles.get(name) != c:
                # A bare repository's file objects are the files themselves.
                os.link(os.path.join(self.objects, c[:2], c[2:] + '.file'), os.path.join(path, name), follow_symlinks=False)
                self.count += 1
        for name, (t, m) in ndirs.items():
            if odirs.get(name) != (t, m):
                self.mkdir(os.path.join(path, name), m)
                self.walk(odirs[name][0] if name in odirs else None, t, os.path.join(path, name))
        for name in set(ofiles) | set(odirs):
            if name not in nfiles and name not in ndirs:
                os.mknod(os.path.join(path, name), stat.S_IFCHR | 0o600, os.makedev(0, 0))
                self.count += 1


def main(args, input):
    repo_path, older, newer, sub, dest = args
    repo = open_repo(repo_path)
    if repo.get_mode() != OSTree.RepoMode.BARE:
        # Other modes store file objects with their metadata apart (bare-user
        # in an xattr, archive compressed): a hardlink would not be the file.
        sys.stderr.write('the repository is not in bare mode: its objects cannot be hardlinked\n')
        sys.exit(4)
    delta = Delta(repo, os.path.join(repo_path, 'objects'))
    (ot, _), (nt, nm) = delta.root(older, sub), delta.root(newer, sub)
    delta.mkdir(dest, nm)
    delta.walk(ot, nt, dest)
    return delta.count
