#!/usr/bin/env python3
"""An HTTP server that fails on demand, for tests of the proxy's resilience.

Usage: flaky-server.py PORT FLAG_FILE [FAIL_DELAY_MS]

Listens on 127.0.0.1:PORT (FLAKY_BIND in the environment names another address). While FLAG_FILE exists (or FLAG_FILE-$SLIPWAY_INSTANCE, for one instance of
several Slipway started), every request is answered 500 (after FAIL_DELAY_MS
milliseconds, default 0), as a struggling dependency would; otherwise 200 "ok". With FLAKY_FAIL_PATH set in the
environment, requests whose path starts with it are always answered 500, as a release with one broken endpoint
would. Each request writes one line to standard error with its status (and `mirror` for a request carrying
X-Slipway-Mirror), flushed at once, so a test can count what reached the server. SIGTERM ends it.

Python standard library only.
"""

import http.server
import os
import signal
import sys
import time


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "flaky-server/1"
    # Head and body go out in separate writes: without this, Nagle's algorithm holds the body for the peer's
    # delayed acknowledgement.
    disable_nagle_algorithm = True

    def do_GET(self):
        failing = os.path.exists(FLAG) or os.path.exists(FLAG + "-" + os.environ.get("SLIPWAY_INSTANCE", ""))
        if FAIL_PATH and self.path.startswith(FAIL_PATH):
            failing = True
        if failing and DELAY > 0:
            time.sleep(DELAY / 1000)
        body = b"failing\n" if failing else b"ok\n"
        self.send_response(500 if failing else 200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        mirror = " mirror" if self.headers.get("X-Slipway-Mirror") else ""
        sys.stderr.write("%s %s%s\n" % (time.time(), format % args, mirror))
        sys.stderr.flush()


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


if __name__ == "__main__":
    PORT = int(sys.argv[1])
    FLAG = sys.argv[2]
    DELAY = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    FAIL_PATH = os.environ.get("FLAKY_FAIL_PATH", "")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    Server((os.environ.get("FLAKY_BIND", "127.0.0.1"), PORT), Handler).serve_forever()
