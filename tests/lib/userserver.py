#!/usr/bin/env python3
"""userserver.py: a small HTTP/1.1 server for the virtual-user tests, for what nginx cannot do.

  /echo         200 with a JSON body describing the request: method, path, headers (names in
                lower case), body
  /slow?s=N     waits N seconds (default 30) before answering 200 "slow\n"
  /json-bad     200 with Content-Type application/json and a body that is not JSON
  anything else 404

Keep-alive as HTTP/1.1 wants; one thread per connection. Usage: userserver.py [--port N]
[--log FILE]. With --port 0 (the default) the kernel picks the port; once listening, the server
prints "listening PORT" on stdout. With --log, one line per request: its method and path, written
when the request arrives (before any wait). Python standard library only.
"""

import argparse
import http.server
import json
import sys
import threading
import time
import urllib.parse


class Handler(http.server.BaseHTTPRequestHandler):
    """Answers by path; every request is logged (when asked) as soon as its head is read."""

    protocol_version = "HTTP/1.1"
    log_lock = threading.Lock()
    log_file = None

    def log_message(self, fmt, *args):
        pass

    def note(self):
        if Handler.log_file:
            with Handler.log_lock:
                Handler.log_file.write("%s %s\n" % (self.command, self.path))
                Handler.log_file.flush()

    def send_body(self, status, body, ctype="text/plain"):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def handle_any(self):
        self.note()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/echo":
            doc = {
                "method": self.command,
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body.decode("utf-8", "replace"),
            }
            self.send_body(200, json.dumps(doc), "application/json")
        elif url.path == "/slow":
            query = urllib.parse.parse_qs(url.query)
            time.sleep(float(query.get("s", ["30"])[0]))
            self.send_body(200, "slow\n")
        elif url.path == "/json-bad":
            self.send_body(200, "{this is not json", "application/json")
        else:
            self.send_body(404, "no such path\n")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = handle_any


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser(description="HTTP server for volley's user-style tests")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--log")
    a = ap.parse_args()
    if a.log:
        Handler.log_file = open(a.log, "a")
    srv = Server(("127.0.0.1", a.port), Handler)
    print("listening %d" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
