#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A recorded-response key distribution server for the tests: one recorded body for the
requests of one vendor's KDS, 404 for anything else, every request logged.

usage: kds_server.py amd VCEK.der PRODUCT LOG PORTFILE
           AMD's KDS: the VCEK (DER) for /vcek/v1/{PRODUCT}/{hwid}?...
       kds_server.py hygon BUNDLE CHIPS LOG PORTFILE
           Hygon's KDS: the HSK/CEK bundle for /hsk_cek?snumber=CHIP, CHIP one of CHIPS
           (comma-separated)
"""
import http.server
import sys
import urllib.parse


def amd_route(product):
    def route(u):
        parts = u.path.strip("/").split("/")
        return parts[:3] == ["vcek", "v1", product] and len(parts) == 4
    return route, "application/pkix-cert"


def hygon_route(chips):
    chips = chips.split(",")

    def route(u):
        q = urllib.parse.parse_qs(u.query)
        return u.path == "/hsk_cek" and q.get("snumber", [""])[0] in chips
    return route, "application/octet-stream"


def main():
    if len(sys.argv) != 6 or sys.argv[1] not in ("amd", "hygon"):
        sys.exit(__doc__)
    kind, body_path, which, log_path, port_path = sys.argv[1:]
    recorded = open(body_path, "rb").read()
    route, ctype = (amd_route if kind == "amd" else hygon_route)(which)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            with open(log_path, "a") as log:  # the target as sent (self.path folds "//")
                log.write(self.requestline.split(" ")[1] + "\n")
            if route(urllib.parse.urlparse(self.path)):
                body, status = recorded, 200
            else:
                body, status = b"not found", 404
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    with open(port_path, "w") as f:
        f.write(str(server.server_address[1]))
    server.serve_forever()


if __name__ == "__main__":
    main()
