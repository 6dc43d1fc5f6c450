"""Trees laid one over another and committed: a layered state's composition
(the base or the current state, each package's commit, then the dpkg
database), what `ostree commit --tree=ref=A --tree=ref=B --tree=dir=D` makes.

Through libostree, not the CLI: for a commit merged into directories that are
there already, the CLI reads each of its files back from the repository,
checksums it and writes it again, although the repository has it under that
checksum; with every layered package that was most of a composition's time.
Here a file is the checksum its commit's tree gives, and a directory that is
new is taken whole from its dirtree, as the CLI does for those. Later trees
win, for a file and for a directory's metadata, as on the CLI.

Input: {repo, trees: [{ref} | {dir}] (the first a ref), branch, subject, body,
metadata, parent (the branch's commit if none), timestamp (now if none)}.
Result: the new commit's checksum."""

from . import dirtree
from .binding import Gio, OSTree, commit_metadata, open_repo, transaction


def merge(repo, mtree, contents, meta):
    """Lays the dirtree CONTENTS (metadata META) over MTREE."""
    mtree.set_metadata_checksum(meta)
    files, dirs = dirtree.read(repo, contents)
    for name, checksum in files:
        mtree.replace_file(name, checksum)
    if not dirs:
        return
    present = mtree.get_subdirs()
    for name, sub_contents, sub_meta in dirs:
        sub = present.get(name)
        if sub is None:
            _, sub = mtree.ensure_dir(name)
            sub.fill_empty_from_dirtree(repo, sub_contents, sub_meta)
        else:
            merge(repo, sub, sub_contents, sub_meta)


def main(args, job):
    repo = open_repo(job['repo'])
    trees = job['trees']
    mtree = OSTree.MutableTree.new_from_commit(repo, trees[0]['ref'])
    parent, subject, body = job.get('parent'), job['subject'], job.get('body')
    if parent is None:
        # The CLI's default: the branch's commit, if it has one.
        _, parent = repo.resolve_rev(job['branch'], True)
    with transaction(repo):
        for tree in trees[1:]:
            if 'ref' in tree:
                _, root, _ = repo.read_commit(tree['ref'], None)
                root.ensure_resolved()
                merge(repo, mtree, root.tree_get_contents_checksum(), root.tree_get_metadata_checksum())
            else:
                repo.write_directory_to_mtree(Gio.File.new_for_path(tree['dir']), mtree, None, None)
        _, root = repo.write_mtree(mtree, None)
        metadata = commit_metadata(job['metadata'], job['branch'])
        if job.get('timestamp') is None:
            _, checksum = repo.write_commit(parent, subject, body, metadata, root, None)
        else:
            _, checksum = repo.write_commit_with_time(parent, subject, body, metadata, root, job['timestamp'], None)
        repo.transaction_set_ref(None, job['branch'], checksum)
    return checksum
