"""The sandbox's /dev/log while maintainer scripts run: a datagram socket
whose messages go to Node, one JSON string a line on stdout (the first line,
"ready", says the socket is bound). Scripts that hide a failure from dpkg
often still log it; without a /dev/log, logger(1) drops the message and exits
0, and the failure leaves no trace at all.

`syslog_sink.py DIR` binds DIR/log by a relative name from DIR: a socket's
path is limited to 108 bytes, and a view's directory can be deep. It stops at
the end of its stdin, after what is still queued."""

import json
import os
import select
import socket
import sys


def out(data):
    sys.stdout.write(json.dumps(data.decode('utf-8', 'replace')) + '\n')
    sys.stdout.flush()


def main():
    os.chdir(sys.argv[1])
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind('log')
    # Scripts log as whatever user they run as.
    os.chmod('log', 0o666)
    out(b'ready')
    while True:
        ready, _, _ = select.select([s, sys.stdin], [], [])
        if s in ready:
            out(s.recv(65536))
        elif not sys.stdin.readline():
            s.setblocking(False)
            try:
                while True:
                    out(s.recv(65536))
            except BlockingIOError:
                pass
            break


if __name__ == '__main__':
    main()
