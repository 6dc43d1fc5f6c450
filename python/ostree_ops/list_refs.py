"""The refs under a prefix with their commits, named as `ostree refs PREFIX`
lists them (prefix included), in one call to a worker that is already
running, instead of an `ostree refs` and an `ostree rev-parse`."""

from .binding import open_repo


def main(args, input):
    path, prefix = args
    _, refs = open_repo(path).list_refs(prefix, None)
    prefix = prefix.rstrip('/') + '/'
    return {prefix + name: checksum for name, checksum in refs.items()}
