"""The request channel of deblayer's python programs: JSON lines on fd 3.

Node opens fd 3 as a socket (spawn's fourth stdio entry) and speaks to the
program there, never on stdout: libostree prints to the process's stdout from
C (write_deployments' prune says "Freed objects: ..."), and nothing but
replies may reach the reply channel. stdin is /dev/null.
"""

import json
import socket

FD = 3


class Channel:
    def __init__(self, fd=FD):
        self._sock = socket.socket(fileno=fd)
        self._reader = self._sock.makefile('r', encoding='utf-8')
        self._writer = self._sock.makefile('w', encoding='utf-8')

    def receive(self):
        """The next request, or None once Node has closed its end."""
        line = self._reader.readline()
        return json.loads(line) if line else None

    def reply(self, obj):
        self._writer.write(json.dumps(obj) + '\n')
        self._writer.flush()
