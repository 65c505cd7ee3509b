#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""An independent check of a ccz RA-TLS certificate with Python's cryptography and cbor2:
the DICE extension is present and non-critical, its value is tag(T)[bstr evidence, bstr
claims], the claims' pubkey-hash is [1, SHA-256(DER SubjectPublicKeyInfo)], and the evidence's
report data is SHA-256(claims) followed by 32 zero bytes (sim evidence: offset 84).

usage: ratls_check.py CERT.pem EXPECTED_TAG"""
import hashlib
import sys

import cbor2
from cryptography import x509
from cryptography.hazmat.primitives import serialization

cert = x509.load_pem_x509_certificate(open(sys.argv[1], "rb").read())
want_tag = int(sys.argv[2], 0)
ext = cert.extensions.get_extension_for_oid(x509.ObjectIdentifier("2.23.133.5.4.9"))
assert not ext.critical, "the DICE extension must not be critical"
tagged = cbor2.loads(ext.value.value)
assert isinstance(tagged, cbor2.CBORTag), "not a CBOR tag"
assert tagged.tag == want_tag, f"tag {tagged.tag}, expected {want_tag}"
evidence, claims = tagged.value
claims_map = cbor2.loads(claims)
alg, key_hash = cbor2.loads(claims_map["pubkey-hash"])
spki = cert.public_key().public_bytes(serialization.Encoding.DER,
                                      serialization.PublicFormat.SubjectPublicKeyInfo)
assert alg == 1, f"hash algorithm {alg}"
assert key_hash == hashlib.sha256(spki).digest(), "pubkey-hash is not SHA-256 of the key"
report_data = evidence[84:148] if evidence[:4] == b"CCZS" else None
assert report_data == hashlib.sha256(claims).digest() + bytes(32), "report data does not bind the claims"
assert cert.not_valid_before < cert.not_valid_after
print("ok", cert.subject.rfc4514_string(), "tag", tagged.tag, "evidence", len(evidence), "bytes")
