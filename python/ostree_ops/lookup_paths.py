"""The entries of some paths of a commit, read from its dirtree objects: what
a conflict check needs of the base, at a cost that follows the number of
paths asked, not the size of the base (a listing of the whole base would be
read again on every new base commit).

Input: the paths (no leading /). Result: path -> 'd', '- CHECKSUM' or
'l CHECKSUM' (the form of `ostree ls -R -C` and of commit_trees' index) for
those that exist."""

from .binding import Gio, GLib, open_repo


def main(args, input):
    repo = open_repo(args[0])
    _, root, _ = repo.read_commit(args[1], None)
    files = {'': root}

    def lookup(path):
        if path in files:
            return files[path]
        parent, _, name = path.rpartition('/')
        f = lookup(parent).get_child(name)
        files[path] = f
        return f

    out = {}
    for path in input:
        f = lookup(path)
        try:
            kind = f.query_info('standard::type', Gio.FileQueryInfoFlags.NOFOLLOW_SYMLINKS, None).get_file_type()
        except GLib.Error:
            continue
        if kind == Gio.FileType.DIRECTORY:
            out[path] = 'd'
        else:
            out[path] = ('l ' if kind == Gio.FileType.SYMBOLIC_LINK else '- ') + f.get_checksum()
    return out
