#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A recorded-response Hygon KDS for the tests: serves one HSK/CEK bundle for
/hsk_cek?snumber=CHIP (any chip in CHIPS, comma-separated), 404 for anything else, and logs
every request.

usage: hygon_kds_server.py BUNDLE CHIPS LOG PORTFILE
"""
import http.server
import sys
import urllib.parse

bundle = open(sys.argv[1], "rb").read()
chips = sys.argv[2].split(",")
log_path, port_path = sys.argv[3], sys.argv[4]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with open(log_path, "a") as log:
            log.write(self.path + "\n")
        u = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(u.query)
        if u.path == "/hsk_cek" and q.get("snumber", [""])[0] in chips:
            body, status = bundle, 200
        else:
            body, status = b"not found", 404
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
with open(port_path, "w") as f:
    f.write(str(server.server_address[1]))
server.serve_forever()
