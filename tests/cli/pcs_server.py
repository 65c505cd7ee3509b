#!/usr/bin/python3
"""A recorded-response Intel PCS / PCCS (v4 API) for the tests: serves the pieces of one
QuoteCollateralV3 file (from the shared vectors) as PCS does -- DER CRLs, {"tcbInfo": ...,
"signature": ...} bodies, percent-encoded issuer chains in headers -- and logs every request.

usage: pcs_server.py COLLATERAL.json LOG PORTFILE
"""
import http.server
import json
import sys
import urllib.parse

coll = json.load(open(sys.argv[1]))
log_path, port_path = sys.argv[2], sys.argv[3]
fmspc = json.loads(coll["tcb_info"])["fmspc"].upper()


class Handler(http.server.BaseHTTPRequestHandler):
    def reply(self, body, headers=None, status=200):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, urllib.parse.quote(v, safe=""))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(url.query)
        with open(log_path, "a") as log:
            log.write(self.path + "\n")
        parts = url.path.strip("/").split("/")
        if parts[1:3] != ["certification", "v4"] or parts[0] not in ("sgx", "tdx"):
            return self.reply(b"not found", status=404)
        what = "/".join(parts[3:])
        if what == "pckcrl" and parts[0] == "sgx":
            return self.reply(bytes.fromhex(coll["pck_crl"]),
                              {"SGX-PCK-CRL-Issuer-Chain": coll["pck_crl_issuer_chain"]})
        if what == "tcb":
            if q.get("fmspc", [""])[0].upper() != fmspc:
                return self.reply(b"no such FMSPC", status=404)
            body = '{"tcbInfo":%s,"signature":"%s"}' % (coll["tcb_info"], coll["tcb_info_signature"])
            return self.reply(body.encode(), {"TCB-Info-Issuer-Chain": coll["tcb_info_issuer_chain"]})
        if what == "qe/identity":
            body = '{"enclaveIdentity":%s,"signature":"%s"}' % (coll["qe_identity"],
                                                                 coll["qe_identity_signature"])
            return self.reply(body.encode(),
                              {"SGX-Enclave-Identity-Issuer-Chain": coll["qe_identity_issuer_chain"]})
        if what == "rootcacrl" and parts[0] == "sgx":
            return self.reply(coll["root_ca_crl"].encode())  # PCCS serves it as hex text
        return self.reply(b"not found", status=404)

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
with open(port_path, "w") as f:
    f.write(str(server.server_address[1]))
server.serve_forever()
