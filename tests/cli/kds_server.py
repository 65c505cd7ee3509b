#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A recorded-response AMD KDS for the tests: serves one VCEK (DER) for
/vcek/v1/{PRODUCT}/{hwid}?... and logs every request.

usage: kds_server.py VCEK.der PRODUCT LOG PORTFILE
"""
import http.server
import sys
import urllib.parse

vcek = open(sys.argv[1], "rb").read()
product, log_path, port_path = sys.argv[2], sys.argv[3], sys.argv[4]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with open(log_path, "a") as log:
            log.write(self.path + "\n")
        parts = urllib.parse.urlparse(self.path).path.strip("/").split("/")
        if parts[:3] == ["vcek", "v1", product] and len(parts) == 4:
            body, status = vcek, 200
        else:
            body, status = b"not found", 404
        self.send_response(status)
        self.send_header("Content-Type", "application/pkix-cert")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
with open(port_path, "w") as f:
    f.write(str(server.server_address[1]))
server.serve_forever()
