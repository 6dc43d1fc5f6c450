"""Every entry under some directories of a commit, with the contents of files
up to a size: a base's apt configuration and keys in one call instead of two
`ostree` runs a file.

Args: repository, commit, size limit in bytes. Input: the directories (no
leading /). Result: path -> {'type': 'directory'}, {'type': 'symlink',
'target': ...} or {'type': 'file', 'data': BASE64} ('data' left out above the
limit)."""

import base64

from .binding import Gio, GLib, open_repo


def main(args, input):
    repo = open_repo(args[0])
    _, root, _ = repo.read_commit(args[1], None)
    limit = int(args[2])
    out = {}

    def walk(f, path):
        try:
            info = f.query_info('standard::type,standard::symlink-target,standard::size', Gio.FileQueryInfoFlags.NOFOLLOW_SYMLINKS, None)
        except GLib.Error:
            return
        kind = info.get_file_type()
        if kind == Gio.FileType.DIRECTORY:
            out[path] = {'type': 'directory'}
            for child in f.enumerate_children('standard::name', Gio.FileQueryInfoFlags.NOFOLLOW_SYMLINKS, None):
                walk(f.get_child(child.get_name()), path + '/' + child.get_name())
        elif kind == Gio.FileType.SYMBOLIC_LINK:
            out[path] = {'type': 'symlink', 'target': info.get_symlink_target()}
        elif info.get_size() <= limit:
            _, data, _ = f.load_contents(None)
            out[path] = {'type': 'file', 'data': base64.b64encode(data).decode('ascii')}
        else:
            out[path] = {'type': 'file'}

    for top in input:
        walk(root.resolve_relative_path(top), top)
    return out
