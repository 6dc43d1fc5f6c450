"""deblayer's libostree worker: runs the programs of ostree_ops by name.

One worker serves a whole deblayer run (src/exec/libostree.ts starts it on
first use, or early): each python3 started for one program paid the import
of libostree's binding again, and a transaction runs several of them.

A request names a module of ostree_ops and gives its arguments:
{"program": NAME, "args": [...], "input": ANY}. The worker calls
ostree_ops.NAME.main(args, input) and replies {"code", "result", "stderr"}:
code 0 and what main returned, or the exit status and what it wrote to
sys.stderr (a traceback for an exception). SystemExit keeps its shell meaning,
as if each program ran as its own python3: sys.exit(3) replies code 3, a
string code is written to stderr with code 1. Requests and replies go through
channel.py (fd 3); stdout and stderr are only logs.
"""

import gc
import importlib
import io
import sys
import traceback

from channel import Channel


def preload():
    # Imported while the worker waits for its first request: the programs'
    # own imports then find it loaded. A missing binding is reported by the
    # first program that imports it (a failed import is tried again).
    try:
        importlib.import_module('ostree_ops.binding')
    except Exception:
        pass


def call(request):
    name = request['program']
    err = io.StringIO()
    real_stdout, real_stderr = sys.stdout, sys.stderr
    # Whatever a program prints is a message: replies carry only its result.
    sys.stdout = sys.stderr = err
    code, result = 0, None
    try:
        if not name.isidentifier():
            raise ValueError('not a program name: %r' % name)
        module = importlib.import_module('ostree_ops.' + name)
        result = module.main(request.get('args', []), request.get('input'))
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        if not isinstance(e.code, int) and e.code is not None:
            err.write('%s\n' % e.code)
    except BaseException:
        code = 1
        err.write(traceback.format_exc())
    finally:
        sys.stdout, sys.stderr = real_stdout, real_stderr
        # The binding's objects (a repository, a locked sysroot) let go of
        # their files and locks when collected: before the next request.
        gc.collect()
    return {'code': code, 'result': result if code == 0 else None, 'stderr': err.getvalue()}


def main():
    channel = Channel()
    preload()
    while True:
        request = channel.receive()
        if request is None:
            break
        channel.reply(call(request))


if __name__ == '__main__':
    main()
