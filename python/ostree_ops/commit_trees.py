"""Package trees committed to a repository in one libostree transaction, each
on its own branch: the form of a small import, asked of the worker that is
already running (python/commit_trees.py streams a large one from a process of
its own, so that commits overlap the unpacking).

Args: [REPO]. Input: the jobs, [{dir, branch, subject, metadata, timestamp}].
Result: [{commit, index}] in the jobs' order; the tree index maps path -> 'd',
'- CHECKSUM' or 'l CHECKSUM' (the form of `ostree ls -R -C`), from the mutable
tree just written, so no listing of the new commit is needed.

Each tree is consumed: in a bare repository ostree moves its files in as
objects instead of copying them, and the directory is gone once committed."""

import os

from .binding import Gio, OSTree, commit_metadata, open_repo, transaction


def symlinks(top):
    found = set()
    for parent, dirs, files in os.walk(top):
        for name in dirs + files:
            path = os.path.join(parent, name)
            if os.path.islink(path):
                found.add(os.path.relpath(path, top))
    return found


def index(mtree, links, prefix, out):
    out[prefix] = 'd'
    for name, checksum in mtree.get_files().items():
        path = prefix + '/' + name if prefix else name
        out[path] = ('l ' if path in links else '- ') + checksum
    for name, sub in mtree.get_subdirs().items():
        index(sub, links, prefix + '/' + name if prefix else name, out)


def commit(repo, job):
    """One job, inside the caller's transaction."""
    mtree = OSTree.MutableTree.new()
    # Consumed as it is written: what is a symlink is read first.
    links = symlinks(job['dir'])
    modifier = OSTree.RepoCommitModifier.new(OSTree.RepoCommitModifierFlags.CONSUME, None)
    repo.write_directory_to_mtree(Gio.File.new_for_path(job['dir']), mtree, modifier, None)
    _, root = repo.write_mtree(mtree, None)
    metadata = commit_metadata(job['metadata'], job['branch'])
    _, checksum = repo.write_commit_with_time(None, job['subject'], None, metadata, root, job['timestamp'], None)
    repo.transaction_set_ref(None, job['branch'], checksum)
    tree = {}
    index(mtree, links, '', tree)
    return {'commit': checksum, 'index': tree}


def main(args, input):
    repo = open_repo(args[0])
    with transaction(repo):
        return [commit(repo, job) for job in input]
