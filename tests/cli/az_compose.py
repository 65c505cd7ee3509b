#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Assembles Azure vTPM evidence (trustee's JSON, version 1 or 2) from its parts, as the tests
need it for the vectors that come as separate files (an HCL report, a TPM quote, a VCEK or a
TD quote). Written to OUT in a scratch directory; the vectors themselves are only read.

usage: az_compose.py OUT --hcl FILE --tpm-quote JSON (--vcek PEM|DER | --td-quote FILE)
                     [--version N] [--flip FIELD:INDEX]...

  --flip signature:0   XOR the TPM quote signature's byte 0 with 1 (also message:N, pcr0:N)
"""
import argparse
import base64
import json
import re
import sys


def der_of(path):
    data = open(path, "rb").read()
    m = re.search(rb"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", data, re.S)
    return base64.b64decode(b"".join(m.group(1).split())) if m else data


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--hcl", required=True)
    ap.add_argument("--tpm-quote", required=True)
    ap.add_argument("--vcek")
    ap.add_argument("--td-quote")
    ap.add_argument("--version", type=int, default=1)
    ap.add_argument("--flip", action="append", default=[])
    a = ap.parse_args()
    q = json.load(open(a.tpm_quote))
    for f in a.flip:
        field, idx = f.split(":")
        idx = int(idx)
        if field == "pcr0":
            b = bytearray.fromhex(q["pcrs"][0])
            b[idx] ^= 1
            q["pcrs"][0] = b.hex()
        else:
            b = bytearray.fromhex(q[field])
            b[idx] ^= 1
            q[field] = b.hex()
    ev = {"version": a.version, "tpm_quote": q,
          "hcl_report": base64.urlsafe_b64encode(open(a.hcl, "rb").read()).decode()}
    if a.vcek:
        ev["vcek"] = base64.urlsafe_b64encode(der_of(a.vcek)).decode()
    elif a.td_quote:
        ev["td_quote"] = base64.urlsafe_b64encode(open(a.td_quote, "rb").read()).decode()
    else:
        sys.exit("give --vcek or --td-quote")
    json.dump(ev, open(a.out, "w"))


main()
