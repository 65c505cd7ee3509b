#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A recorded-response Intel PCS / PCCS (v4 API) for the tests: serves the pieces of one
QuoteCollateralV3 file (from the shared vectors) -- CRLs, {"tcbInfo": ..., "signature": ...}
bodies, percent-encoded issuer chains in headers -- and logs every request.

usage: pcs_server.py COLLATERAL.json LOG PORTFILE [options]

  --shape pccs   (default) GET /sgx/certification/v4/rootcacrl answers with the root CA CRL;
                 hex-encoded DER by default, as Intel's PCCS sends it
  --shape pcs    as Intel PCS: no rootcacrl (404); the root CA CRL is served as DER at the root
                 certificate's CRL distribution point (any path ending in IntelSGXRootCA.der,
                 reached through the proxy below); pckcrl without encoding=der answers PEM
  --pck-crl E    serve the PCK CRL as E (der, pem or hex) whatever the request asks
  --root-crl E   serve the root CA CRL as E (der, pem or hex)
  --legacy-headers
                 name the issuer chains as the v3 API and older PCCSs do
                 (SGX-TCB-Info-Issuer-Chain, Enclave-Identity-Issuer-Chain)
  --no-chain-header
                 send the PCK CRL without its issuer-chain header
  --rootcacrl-status N
                 answer GET rootcacrl with HTTP status N (a PCCS in trouble)
  --bad-tcb-info serve a TCB info that is not one (a JSON array, not an object)
  --decoy-header send, before each issuer chain, a header whose name starts with the chain's
                 (SGX-PCK-CRL-Issuer-Chain-Note: ...)
  --huge-tcb-info
                 pad the TCB info answer with 3 MiB of blanks (over ccz's 2 MiB bound)
  --tls CERT KEY speak HTTPS with this certificate
  --proxy PORTFILE
                 also run an HTTP proxy on another loopback port: CONNECT tunnels to any host
                 end here, in TLS with the --tls certificate, and are served like direct
                 requests ("CONNECT host:port" and "tunnel host path" are logged)
"""
import argparse
import base64
import http.server
import json
import os
import socketserver
import ssl
import sys
import threading
import urllib.parse

ap = argparse.ArgumentParser()
ap.add_argument("collateral")
ap.add_argument("log")
ap.add_argument("portfile")
ap.add_argument("--shape", choices=("pccs", "pcs"), default="pccs")
ap.add_argument("--pck-crl", choices=("der", "pem", "hex"))
ap.add_argument("--root-crl", choices=("der", "pem", "hex"))
ap.add_argument("--legacy-headers", action="store_true")
ap.add_argument("--no-chain-header", action="store_true")
ap.add_argument("--rootcacrl-status", type=int)
ap.add_argument("--bad-tcb-info", action="store_true")
ap.add_argument("--huge-tcb-info", action="store_true")
ap.add_argument("--decoy-header", action="store_true")
ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
ap.add_argument("--proxy", metavar="PORTFILE")
args = ap.parse_args()

coll = json.load(open(args.collateral))
fmspc = json.loads(coll["tcb_info"])["fmspc"].upper()
log_lock = threading.Lock()
tls_ctx = None
if args.tls:
    tls_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls_ctx.load_cert_chain(args.tls[0], args.tls[1])


def log(line):
    with log_lock, open(args.log, "a") as f:
        f.write(line + "\n")


def encode_crl(hex_der, encoding):
    der = bytes.fromhex(hex_der)
    if encoding == "der":
        return der
    if encoding == "hex":
        return hex_der.encode()
    b64 = base64.encodebytes(der).decode().replace("\n", "")
    lines = [b64[i:i + 64] for i in range(0, len(b64), 64)]
    return ("-----BEGIN X509 CRL-----\n" + "\n".join(lines) + "\n-----END X509 CRL-----\n").encode()


class Handler(http.server.BaseHTTPRequestHandler):
    tunnel_host = None  # set on handlers serving inside a CONNECT tunnel

    def reply(self, body, headers=None, status=200):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, urllib.parse.quote(v, safe=""))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_CONNECT(self):
        log("CONNECT " + self.path)
        if not tls_ctx:
            return self.reply(b"no TLS to tunnel into", status=502)
        self.send_response(200, "Connection established")
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True
        try:
            inner = tls_ctx.wrap_socket(self.connection.dup(), server_side=True)
        except (ssl.SSLError, OSError):
            return
        handler = type("Tunnel", (Handler,), {"tunnel_host": self.path.rsplit(":", 1)[0]})
        try:
            handler(inner, self.client_address, self.server)
        finally:
            inner.close()

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(url.query)
        log(("tunnel %s " % self.tunnel_host if self.tunnel_host else "") + self.path)
        if url.path.endswith("/IntelSGXRootCA.der") and args.shape == "pcs":
            return self.reply(encode_crl(coll["root_ca_crl"], args.root_crl or "der"),
                              {"Content-Type": "application/pkix-crl"})
        parts = url.path.strip("/").split("/")
        if len(parts) < 4 or parts[1:3] != ["certification", "v4"] or parts[0] not in ("sgx", "tdx"):
            return self.reply(b"not found", status=404)
        what = "/".join(parts[3:])
        if what == "pckcrl" and parts[0] == "sgx":
            asked = "der" if q.get("encoding", [""])[0] == "der" else "pem"
            chain = {} if args.no_chain_header else {"SGX-PCK-CRL-Issuer-Chain":
                                                     coll["pck_crl_issuer_chain"]}
            if args.decoy_header:
                chain = {"SGX-PCK-CRL-Issuer-Chain-Note": "not the chain", **chain}
            return self.reply(encode_crl(coll["pck_crl"], args.pck_crl or asked), chain)
        if what == "tcb":
            if q.get("fmspc", [""])[0].upper() != fmspc:
                return self.reply(b"no such FMSPC", status=404)
            info = '[3]' if args.bad_tcb_info else coll["tcb_info"]
            body = '{"tcbInfo":%s,"signature":"%s"}' % (info, coll["tcb_info_signature"])
            if args.huge_tcb_info:
                body += " " * (3 << 20)
            name = "SGX-TCB-Info-Issuer-Chain" if args.legacy_headers else "TCB-Info-Issuer-Chain"
            return self.reply(body.encode(), {name: coll["tcb_info_issuer_chain"]})
        if what == "qe/identity":
            body = '{"enclaveIdentity":%s,"signature":"%s"}' % (coll["qe_identity"],
                                                                 coll["qe_identity_signature"])
            name = ("Enclave-Identity-Issuer-Chain" if args.legacy_headers
                    else "SGX-Enclave-Identity-Issuer-Chain")
            return self.reply(body.encode(), {name: coll["qe_identity_issuer_chain"]})
        if what == "rootcacrl" and args.rootcacrl_status:
            return self.reply(b"PCCS error", status=args.rootcacrl_status)
        if what == "rootcacrl" and parts[0] == "sgx" and args.shape == "pccs":
            return self.reply(encode_crl(coll["root_ca_crl"], args.root_crl or "hex"))
        return self.reply(b"not found", status=404)

    def log_message(self, *a):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client refusing our certificate is part of the tests


def serve(server, portfile):
    with open(portfile + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(portfile + ".tmp", portfile)
    server.serve_forever()


main = Server(("127.0.0.1", 0), Handler)
if tls_ctx:
    main.socket = tls_ctx.wrap_socket(main.socket, server_side=True, do_handshake_on_connect=False)
if args.proxy:
    proxy = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=serve, args=(proxy, args.proxy), daemon=True).start()
serve(main, args.portfile)
