#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Writes N signed eHSM-KMS request bodies, one JSON per line, each with its own nonce (the KMS
refuses a replayed one), for wrk to send: bodies.py APPID APIKEY ACTION PAYLOAD_JSON N OUT.
The signature is tests/svc/ehsm_client.py's (an implementation independent of ccz's C code)."""
import importlib.util
import json
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    "ehsm_client", os.path.join(here, "..", "..", "tests", "svc", "ehsm_client.py"))
ehsm = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ehsm)

appid, apikey, action, payload, n, out = sys.argv[1:7]
payload = json.loads(payload)
ts = ehsm.now_ms()
with open(out, "w") as f:
    for i in range(int(n)):
        nonce = "%x" % i
        body = {"appid": appid, "timestamp": ts, "nonce": nonce, "payload": payload,
                "sign": ehsm.signature(apikey, appid, ts, payload, nonce)}
        f.write(json.dumps(body, separators=(",", ":")) + "\n")
