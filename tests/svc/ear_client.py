#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""An independent client of ccz's attestation API, written from docs/services.md and the EAR
and JWT specifications (not from ccz's C code): it takes a nonce, binds it and runtime data into
sim evidence (report data = SHA-512(nonce || runtime_data), evidence made by `ccz attest`),
posts it, and verifies the token with Debian's python3-jwt against the published JWKS. Then the
refusals a relying party relies on: a reused nonce, a forged token.

  ear_client.py BASE_URL CAFILE CCZ SIM_DIR MEASUREMENT_HEX
Exit status 0 when every check holds; the first failure is printed."""
import base64
import hashlib
import json
import ssl
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

import jwt
from jwt.algorithms import ECAlgorithm

base, cafile, ccz, sim_dir, measurement = sys.argv[1:6]
ctx = ssl.create_default_context(cafile=cafile)


def call(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def check(cond, what):
    if not cond:
        print("FAIL:", what)
        sys.exit(1)
    print("ok  ", what)


def evidence(report_data):
    with tempfile.NamedTemporaryFile() as f:
        subprocess.run([ccz, "attest", "--tee", "sim", "--sim-dir", sim_dir, "--measurement",
                        measurement, "--report-data", report_data.hex(), "-o", f.name],
                       check=True)
        return base64.b64encode(open(f.name, "rb").read()).decode()


status, n = call("GET", "/v1/nonce")
check(status == 200 and len(n["nonce"]) == 43, "a nonce")
runtime = b"python peer runtime data"
ev = evidence(hashlib.sha512(n["nonce"].encode() + runtime).digest())
body = {"evidence": ev, "nonce": n["nonce"], "runtime_data": base64.b64encode(runtime).decode()}
status, res = call("POST", "/v1/attest", body)
check(status == 200 and "token" in res, "a token for bound sim evidence")
token = res["token"]

status, jwks = call("GET", "/.well-known/jwks.json")
header = jwt.get_unverified_header(token)
check(header["alg"] in ("ES256", "ES384") and header["typ"] == "JWT", "an ES256/ES384 JWT")
key = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
pub = ECAlgorithm.from_jwk(json.dumps(key))
claims = jwt.decode(token, pub, algorithms=[header["alg"]], options={"require": ["exp", "iat"]})
check(claims["eat_profile"] == "tag:github.com,2023:veraison/ear", "the EAR profile")
check(claims["eat_nonce"] == n["nonce"], "the nonce in eat_nonce")
sub = claims["submods"]["sim"]
check(sub["ear.status"] == "warning" and sub["ccz.simulated"] is True,
      "simulated evidence is a warning, never affirming")
check(sub["ear.trustworthiness-vector"]["executables"] == 2, "approved executables")
check(sub["ear.veraison.annotated-evidence"]["mr_enclave"] == measurement,
      "the measurement among the verified claims")
check(base64.urlsafe_b64decode(sub["ccz.runtime-data"] + "==") == runtime, "the runtime data")

status, err = call("POST", "/v1/attest", body)
check(status == 401 and err["error"]["reason"] == "nonce_invalid", "a reused nonce is refused")

head, payload, sig = token.split(".")
claims["exp"] += 3600
forged = head + "." + base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=") \
    + "." + sig
try:
    jwt.decode(forged, pub, algorithms=[header["alg"]])
    check(False, "a forged token is refused")
except jwt.InvalidSignatureError:
    check(True, "a forged token is refused")
