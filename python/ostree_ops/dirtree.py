"""A dirtree object's entries, read from its serialized bytes.

A dirtree is the GVariant (a(say)a(sayay)): files (name, content checksum)
and subdirectories (name, dirtree checksum, dirmeta checksum). Walking it
through the GObject binding makes a Python wrapper for every child value, and
for a directory of a few thousand entries (usr/share/doc, usr/lib/<triplet>)
that was most of what reading it cost. The serialization is GVariant's
documented one: variable-size members end where little-endian framing
offsets at the end of their container say, each offset as wide as the
container's size needs."""

from .binding import OSTree


def _width(size):
    return 0 if size == 0 else 1 if size <= 0xff else 2 if size <= 0xffff else 4 if size <= 0xffffffff else 8


def _offset(data, at, width):
    return int.from_bytes(data[at:at + width], 'little')


def _elements(data, start, end):
    """(start, end) of each element of an array of variable-size elements in DATA[start:end]."""
    size = end - start
    if size == 0:
        return []
    w = _width(size)
    table = start + _offset(data, end - w, w)
    spans, at = [], start
    for i in range(table, end, w):
        stop = start + _offset(data, i, w)
        spans.append((at, stop))
        at = stop  # the elements' alignment is 1: no padding between them
    return spans


def _name(data, start, stop):
    return data[start:stop - 1].decode()  # a GVariant string: UTF-8, then a NUL


def parse(data):
    """(files: [(name, checksum)], dirs: [(name, dirtree, dirmeta)]) of the serialized dirtree DATA."""
    n = len(data)
    if n == 0:
        return [], []
    w = _width(n)
    files_end = _offset(data, n - w, w)
    files = []
    for start, end in _elements(data, 0, files_end):
        ew = _width(end - start)
        name_end = start + _offset(data, end - ew, ew)
        files.append((_name(data, start, name_end), data[name_end:end - ew].hex()))
    dirs = []
    for start, end in _elements(data, files_end, n - w):
        ew = _width(end - start)
        name_end = start + _offset(data, end - ew, ew)
        tree_end = start + _offset(data, end - 2 * ew, ew)
        dirs.append((_name(data, start, name_end), data[name_end:tree_end].hex(), data[tree_end:end - 2 * ew].hex()))
    return files, dirs


def read(repo, checksum):
    """The entries of the dirtree object CHECKSUM of REPO (see parse)."""
    v = repo.load_variant(OSTree.ObjectType.DIR_TREE, checksum)[1]
    return parse(v.get_data_as_bytes().get_data())
