#!/usr/bin/env python3
"""A small HTTP server that logs like a real one, for end-to-end tests.

Listens on 127.0.0.1:$PORT. Answers:
  GET /health      200 "ok"
  GET /            200 a JSON line naming the instance (SLIPWAY_APP, SLIPWAY_VERSION, SLIPWAY_INSTANCE)
  GET /work?ms=N   200 after sleeping N milliseconds (0 to 60000)
Anything else is 404. Every request writes one access-log line to standard output and one log line to standard
error, each flushed at once. SIGTERM ends it with status 0.

Python standard library only.
"""

import http.server
import json
import os
import signal
import sys
import time
import urllib.parse


def log(stream, line):
    stream.write(line + "\n")
    stream.flush()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "access-log-server/1"

    def do_GET(self):
        started = time.monotonic()
        url = urllib.parse.urlsplit(self.path)
        status = 200
        if url.path == "/health":
            body = b"ok\n"
        elif url.path == "/":
            body = (json.dumps({
                "app": os.environ.get("SLIPWAY_APP", ""),
                "version": os.environ.get("SLIPWAY_VERSION", ""),
                "instance": os.environ.get("SLIPWAY_INSTANCE", ""),
                "pid": os.getpid(),
            }) + "\n").encode()
        elif url.path == "/work":
            query = urllib.parse.parse_qs(url.query)
            try:
                milliseconds = min(max(int(query.get("ms", ["0"])[0]), 0), 60000)
            except ValueError:
                milliseconds = 0
            time.sleep(milliseconds / 1000)
            body = ("worked %d ms\n" % milliseconds).encode()
        else:
            status = 404
            body = b"not found\n"
        self.send_response_only(status)
        json_body = status == 200 and url.path == "/"
        self.send_header("Content-Type", "application/json" if json_body else "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        elapsed = (time.monotonic() - started) * 1000
        stamp = time.strftime("%d/%b/%Y:%H:%M:%S %z")
        log(sys.stdout, '%s - - [%s] "%s" %d %d' % (self.client_address[0], stamp, self.requestline, status,
                                                     len(body)))
        log(sys.stderr, "info request method=GET target=%s status=%d duration_ms=%.1f" % (self.path, status, elapsed))

    def log_message(self, format, *args):
        # The lines above replace the standard ones.
        pass


def main():
    port = int(os.environ["PORT"])
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True

    def terminate(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, terminate)
    log(sys.stdout, "listening on 127.0.0.1:%d" % port)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        log(sys.stderr, "info stopped")


if __name__ == "__main__":
    main()
