#!/usr/bin/env python3
"""faultserver.py: an HTTP/1.1 server on 127.0.0.1 that answers every request in one odd way.

Used by volley's integration tests to put the client in front of replies that nginx never sends:
closes, stalls, garbage, chunk extensions and trailers, HTTP/1.0 close-delimited bodies, interim
1xx replies, 204/304 without bodies, oversized header blocks, oversized bodies and resets.

Usage: faultserver.py --mode MODE [--port N] [--log FILE]
With --port 0 (the default) the kernel picks the port. Once listening, the server prints
"listening PORT" on stdout. With --log, one line per request received is appended to FILE.
Python standard library only.
"""

import argparse
import asyncio
import socket
import struct
import sys

MODES = (
    "ok",
    "close",
    "stall",
    "garbage",
    "chunked",
    "http10",
    "interim",
    "nocontent",
    "bigheaders",
    "bigbody",
    "reset",
)

BIG_BODY_BYTES = 100 * 1024 * 1024
BIG_HEADER_BYTES = 80 * 1024
REQUEST_HEAD_LIMIT = 64 * 1024


class Server:
    """Holds the mode, the request counter and the optional request log."""

    def __init__(self, mode, log_path):
        self.mode = mode
        self.requests = 0
        self.log = open(log_path, "a", buffering=1) if log_path else None

    def note(self, head):
        """Counts one request and logs its request line."""
        self.requests += 1
        if self.log:
            line = head.split(b"\r\n", 1)[0].decode("latin-1")
            self.log.write("%d %s %s\n" % (self.requests, self.mode, line))


async def read_request(reader):
    """Reads one request head (and skips a Content-Length body). None at EOF or on errors."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        return None
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            try:
                length = int(value.strip())
            except ValueError:
                return None
    if length:
        try:
            await reader.readexactly(length)
        except (asyncio.IncompleteReadError, ConnectionError):
            return None
    return head


async def send(writer, data):
    """Writes data and waits for the buffer to drain; False when the peer has gone."""
    try:
        writer.write(data)
        await writer.drain()
        return True
    except (ConnectionError, OSError):
        return False


def reply(status, headers, body=b""):
    """Builds an HTTP/1.1 response with a Content-Length."""
    lines = ["HTTP/1.1 %s" % status] + headers + ["Content-Length: %d" % len(body)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


# Each answer_* coroutine answers one request and returns True to keep the connection open.


async def answer_ok(srv, writer):
    return await send(writer, reply("200 OK", ["Content-Type: text/plain"], b"hello\n"))


async def answer_close(srv, writer):
    await send(writer, reply("200 OK", ["Connection: close"], b"hello"))
    return False


async def answer_garbage(srv, writer):
    return await send(writer, b"NOT HTTP\r\n\r\n")


async def answer_chunked(srv, writer):
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n"
    parts = [
        head,
        b"5;name=value\r\nhello\r\n",
        b'6;quoted="a b";flag\r\n world\r\n',
        b"1A\r\n" + b"z" * 26 + b"\r\n",
        b"0;last=1\r\nX-Checksum: 42\r\nX-Other: yes\r\n\r\n",
    ]
    for part in parts:
        if not await send(writer, part):
            return False
        await asyncio.sleep(0)
    return True


async def answer_http10(srv, writer):
    body = b"x" * 1000
    await send(writer, b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n" + body)
    return False


async def answer_interim(srv, writer):
    data = (
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
        + reply("200 OK", ["Content-Type: text/plain"], b"ok")
    )
    return await send(writer, data)


async def answer_nocontent(srv, writer):
    # A 304 may carry the Content-Length of the representation it stands for (RFC 9110 8.6);
    # the client must still read no body after it.
    if srv.requests % 2:
        data = b"HTTP/1.1 204 No Content\r\nX-Kind: empty\r\n\r\n"
    else:
        data = b'HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\nContent-Length: 10\r\n\r\n'
    return await send(writer, data)


async def answer_bigheaders(srv, writer):
    lines = [b"HTTP/1.1 200 OK\r\n"]
    size = 0
    n = 0
    while size < BIG_HEADER_BYTES:
        line = b"X-Fill-%04d: %s\r\n" % (n, b"a" * 1000)
        lines.append(line)
        size += len(line)
        n += 1
    lines.append(b"Content-Length: 2\r\n\r\nok")
    return await send(writer, b"".join(lines))


async def answer_bigbody(srv, writer):
    if not await send(writer, b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % BIG_BODY_BYTES):
        return False
    block = b"b" * 65536
    sent = 0
    while sent < BIG_BODY_BYTES:
        if not await send(writer, block):
            return False
        sent += len(block)
    return True


async def answer_reset(srv, writer):
    await send(writer, b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"r" * 500)
    await asyncio.sleep(0.05)
    sock = writer.get_extra_info("socket")
    if sock is not None:
        # Linger on with a zero timeout: close() drops the connection with a RST.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
    return False


async def stall(reader):
    """Reads and discards whatever arrives until the peer closes; never answers."""
    try:
        while await reader.read(65536):
            pass
    except ConnectionError:
        pass


ANSWERS = {
    "ok": answer_ok,
    "close": answer_close,
    "garbage": answer_garbage,
    "chunked": answer_chunked,
    "http10": answer_http10,
    "interim": answer_interim,
    "nocontent": answer_nocontent,
    "bigheaders": answer_bigheaders,
    "bigbody": answer_bigbody,
    "reset": answer_reset,
}


async def serve_connection(srv, reader, writer):
    """Answers requests on one connection until the mode or the peer ends it."""
    try:
        while True:
            head = await read_request(reader)
            if head is None:
                break
            srv.note(head)
            if srv.mode == "stall":
                await stall(reader)
                break
            if not await ANSWERS[srv.mode](srv, writer):
                break
    finally:
        if not writer.transport.is_closing():
            writer.close()


async def main():
    parser = argparse.ArgumentParser(description="HTTP server with one chosen fault")
    parser.add_argument("--mode", required=True, choices=MODES)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--log", default=None)
    args = parser.parse_args()

    srv = Server(args.mode, args.log)
    server = await asyncio.start_server(
        lambda r, w: serve_connection(srv, r, w),
        args.host,
        args.port,
        reuse_address=True,
        limit=REQUEST_HEAD_LIMIT,
        backlog=1024,
    )
    port = server.sockets[0].getsockname()[1]
    print("listening %d" % port, flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
