#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""An independent KBS client, written from Trustee's kbs/docs/kbs_attestation_protocol.md (not
from ccz's C code): auth -> attest -> resource, with an EC P-256 key (ECDH-ES+A256KW) and an RSA
key (RSA-OAEP-256), the runtime data hashed as the protocol says (SHA-384 of its canonical JSON,
zero-padded to 64 bytes), the evidence made by `ccz attest --tee sim`, and the JWE opened with
Debian's python3-jwcrypto. Then the resource again with the attestation token as a bearer.

  kbs_client.py BASE_URL CAFILE CCZ SIM_DIR MEASUREMENT_HEX RESOURCE_PATH EXPECTED_FILE"""
import base64
import hashlib
import json
import ssl
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

from jwcrypto import jwe, jwk

base, cafile, ccz, sim_dir, measurement, resource, expected_file = sys.argv[1:8]
expected = open(expected_file, "rb").read()
ctx = ssl.create_default_context(cafile=cafile)


def call(method, path, body=None, cookie=None, bearer=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if cookie:
        req.add_header("Cookie", cookie)
    if bearer:
        req.add_header("Authorization", "Bearer " + bearer)
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
            set_cookie = r.headers.get("Set-Cookie")
            return r.status, r.read(), set_cookie.split(";")[0] if set_cookie else cookie
    except urllib.error.HTTPError as e:
        return e.code, e.read(), cookie


def check(cond, what):
    if not cond:
        print("FAIL:", what)
        sys.exit(1)
    print("ok  ", what)


def canonical(obj):  # RFC 8785 for objects of ASCII strings
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def evidence(report_data):
    with tempfile.NamedTemporaryFile() as f:
        subprocess.run([ccz, "attest", "--tee", "sim", "--sim-dir", sim_dir, "--measurement",
                        measurement, "--report-data", report_data.hex(), "-o", f.name],
                       check=True)
        return base64.b64encode(open(f.name, "rb").read()).decode()


def session(key, alg):
    status, body, cookie = call("POST", "/kbs/v0/auth",
                                {"version": "0.4.0", "tee": "sim", "extra-params": {}})
    check(status == 200 and cookie.startswith("kbs-session-id="), "auth: a challenge and a cookie")
    nonce = json.loads(body)["nonce"]
    pub = json.loads(key.export_public())
    pub["alg"] = alg
    runtime = {"tee-pubkey": pub, "nonce": nonce, "additional-evidence": ""}
    digest = hashlib.sha384(canonical(runtime)).digest()
    att = {"runtime-data": {"nonce": nonce, "tee-pubkey": pub},
           "tee-evidence": {"primary_evidence": {"evidence": evidence(digest.ljust(64, b"\0"))},
                            "additional_evidence": ""}}
    status, body, cookie = call("POST", "/kbs/v0/attest", att, cookie=cookie)
    check(status == 200, "attest (%s): %s" % (alg, body[:200]))
    return cookie, json.loads(body)["token"]


def open_jwe(body, key, alg):
    token = jwe.JWE()
    token.deserialize(body.decode(), key=key)
    check(json.loads(token.objects["protected"])["alg"] == alg and
          json.loads(token.objects["protected"])["enc"] == "A256GCM", "JWE %s with A256GCM" % alg)
    return token.payload


for kty, alg in (("EC", "ECDH-ES+A256KW"), ("RSA", "RSA-OAEP-256")):
    key = jwk.JWK.generate(kty="EC", crv="P-256") if kty == "EC" else \
        jwk.JWK.generate(kty="RSA", size=2048)
    cookie, token = session(key, alg)
    status, body, _ = call("GET", "/kbs/v0/resource/" + resource, cookie=cookie)
    check(status == 200, "the resource with the session's cookie")
    check(open_jwe(body, key, alg) == expected, "the resource decrypts to its bytes (%s)" % alg)
    status, body, _ = call("GET", "/kbs/v0/resource/" + resource, bearer=token)
    check(status == 200 and open_jwe(body, key, alg) == expected, "the resource with the token")
    other = jwk.JWK.generate(kty=kty, crv="P-256") if kty == "EC" else \
        jwk.JWK.generate(kty="RSA", size=2048)
    try:
        jwe.JWE().deserialize(body.decode(), key=other)
        check(False, "another key cannot open it")
    except Exception:
        check(True, "another key cannot open it")

status, body, _ = call("GET", "/kbs/v0/resource/" + resource)
check(status == 401, "no cookie, no token: 401")
