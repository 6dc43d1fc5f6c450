"""Commits package trees to a repository in one libostree transaction, streamed
from a process of its own beside the worker (`commit_trees.py REPO`) for as
long as a large package import lasts, so that commits overlap the unpacking.
A small import asks the worker instead (ostree_ops/commit_trees.py, which
also says what a job is and what its answer holds).

Node sends one job a line on the channel (fd 3, see channel.py) and gets one
line back per job, in order. The refs and objects become visible together
when {"finish": true} comes; a channel that closes before that (Node stopped
half-way) commits nothing."""

import sys

from channel import Channel
from ostree_ops.binding import open_repo, transaction
from ostree_ops.commit_trees import commit


def main():
    channel = Channel()
    repo = open_repo(sys.argv[1])
    try:
        with transaction(repo):
            while True:
                job = channel.receive()
                if job is None:
                    raise RuntimeError('the channel closed before the trees were committed')
                if job.get('finish'):
                    break
                channel.reply(commit(repo, job))
    except BaseException as err:
        sys.stderr.write('%s\n' % err)
        sys.exit(1)


if __name__ == '__main__':
    main()
