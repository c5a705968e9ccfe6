#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""A stand-in trace collector for the e2e tests: answers every POST with
the status given, and keeps each request's body as DIR/N-PATH.json (PATH
with its slashes as dashes), so a test can read what stats-d exported.

    collector.py PORT DIR [STATUS]
"""
import http.server
import os
import sys

PORT = int(sys.argv[1])
DIR = sys.argv[2]
STATUS = int(sys.argv[3]) if len(sys.argv) > 3 else 202
COUNT = [0]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        COUNT[0] += 1
        name = "%d%s.json" % (COUNT[0], self.path.replace("/", "-"))
        with open(os.path.join(DIR, name + ".tmp"), "wb") as f:
            f.write(body)
        with open(os.path.join(DIR, name + ".headers"), "w") as f:
            f.write(str(self.headers))
        os.rename(os.path.join(DIR, name + ".tmp"), os.path.join(DIR, name))
        self.send_response(STATUS)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


http.server.HTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
