"""Commits package trees to a repository in one libostree transaction: an
`ostree commit` per package would pay its own transaction and fsync each time.

Run as its own process beside the worker (`commit_trees.py REPO`), for as long
as a package import lasts: Node sends one job a line on the channel (fd 3,
see channel.py), {dir, branch, subject, metadata, timestamp}, and gets one
line back per job, {commit, index}, in order. The refs and objects become
visible together when {"finish": true} comes; a channel that closes before
that (Node stopped half-way) commits nothing.

The tree index (path -> 'd', '- CHECKSUM' or 'l CHECKSUM', as
`ostree ls -R -C` gives it) comes from the mutable tree just written, so no
listing of the new commit is needed."""

import os
import stat
import sys

from channel import Channel
from ostree_ops.binding import Gio, GLib, OSTree, open_repo


def index(mtree, top, prefix, out):
    out[prefix] = 'd'
    for name, checksum in mtree.get_files().items():
        path = prefix + '/' + name if prefix else name
        mode = os.lstat(os.path.join(top, path)).st_mode
        out[path] = ('l ' if stat.S_ISLNK(mode) else '- ') + checksum
    for name, sub in mtree.get_subdirs().items():
        index(sub, top, prefix + '/' + name if prefix else name, out)


def commit(repo, job):
    mtree = OSTree.MutableTree.new()
    repo.write_directory_to_mtree(Gio.File.new_for_path(job['dir']), mtree, None, None)
    _, root = repo.write_mtree(mtree, None)
    metadata = GLib.VariantDict.new(None)
    for key, value in job['metadata'].items():
        metadata.insert_value(key, GLib.Variant('s', value))
    metadata.insert_value('ostree.ref-binding', GLib.Variant('as', [job['branch']]))
    _, checksum = repo.write_commit_with_time(None, job['subject'], None, metadata.end(), root, job['timestamp'], None)
    repo.transaction_set_ref(None, job['branch'], checksum)
    tree = {}
    index(mtree, job['dir'], '', tree)
    return {'commit': checksum, 'index': tree}


def main():
    channel = Channel()
    repo = open_repo(sys.argv[1])
    repo.prepare_transaction(None)
    try:
        while True:
            job = channel.receive()
            if job is None:
                raise RuntimeError('the channel closed before the trees were committed')
            if job.get('finish'):
                break
            channel.reply(commit(repo, job))
        repo.commit_transaction(None)
    except BaseException as err:
        repo.abort_transaction(None)
        sys.stderr.write('%s\n' % err)
        sys.exit(1)


if __name__ == '__main__':
    main()
