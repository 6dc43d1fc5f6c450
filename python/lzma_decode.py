"""Decodes .xz and .lzma members of .deb files with liblzma (python3's lzma
module), member after member, for as long as Node's .deb reader runs: a helper
started once spares Node a fork of itself for every small member
(src/exec/lzma.ts says when it is used, and why).

Requests come on stdin, one JSON line a member: {file, offset, size,
format: 'xz' | 'lzma'}. The helper reads the member from the file itself
(pread of the byte range), so Node does not pipe the compressed bytes. The
answer on stdout is framed: 'D' + u32 length + bytes, then 'E' at the end of
the member, or 'X' + u32 length + message when the data is corrupt or
truncated. At most one frame is decoded ahead: then the helper blocks on the
pipe until Node's reader has taken it, so memory stays bounded."""

import json
import lzma
import os
import struct
import sys

CHUNK = 256 * 1024

# liblzma's messages in xz(1)'s words, which users of Debian tools know.
XZ_WORDS = {
    'Input format not supported by decoder': 'File format not recognized',
    'Corrupt input data': 'Compressed data is corrupt',
}


def frame(out, kind, data=b''):
    out.write(kind + struct.pack('>I', len(data)))
    out.write(data)
    out.flush()


def decode(out, fd, pos, end, fmt):
    d = lzma.LZMADecompressor(fmt)
    data = b''
    while True:
        if d.eof:
            # What follows a stream, as xz(1) reads it: zero padding, or another stream.
            rest = d.unused_data
            while not rest.strip(b'\0') and pos < end:
                rest = os.pread(fd, min(CHUNK, end - pos), pos)
                pos += len(rest)
            if not rest.strip(b'\0'):
                return
            if fmt != lzma.FORMAT_XZ:
                raise lzma.LZMAError('Corrupt input data')
            d = lzma.LZMADecompressor(fmt)
            data = rest.lstrip(b'\0')
        elif d.needs_input and not data:
            data = os.pread(fd, min(CHUNK, end - pos), pos) if pos < end else b''
            if not data:
                raise lzma.LZMAError('Unexpected end of input')
            pos += len(data)
        chunk = d.decompress(data, max_length=CHUNK)
        data = b''
        if chunk:
            frame(out, b'D', chunk)


def main():
    out = sys.stdout.buffer
    for line in sys.stdin:
        req = json.loads(line)
        fmt = lzma.FORMAT_ALONE if req['format'] == 'lzma' else lzma.FORMAT_XZ
        try:
            fd = os.open(req['file'], os.O_RDONLY)
            try:
                decode(out, fd, req['offset'], req['offset'] + req['size'], fmt)
            finally:
                os.close(fd)
        except (lzma.LZMAError, OSError, EOFError) as err:
            frame(out, b'X', XZ_WORDS.get(str(err), str(err)).encode())
            continue
        frame(out, b'E')


if __name__ == '__main__':
    main()
