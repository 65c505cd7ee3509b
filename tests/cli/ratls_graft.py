#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A certificate that carries another's evidence: CERT's DICE extension with its own claims (its
key's hash) but the evidence of OTHER, re-signed with CERT's key, as an attacker who holds a
key but not a TEE would make one from an RA-TLS certificate it has seen. The evidence verifies;
its report data does not bind these claims. Python's cryptography and cbor2 only.

usage: ratls_graft.py CERT.pem KEY.pem OTHER.pem OUT.pem"""
import sys

import cbor2
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

DICE = x509.ObjectIdentifier("2.23.133.5.4.9")
cert_path, key_path, other_path, out_path = sys.argv[1:5]
cert = x509.load_pem_x509_certificate(open(cert_path, "rb").read())
key = serialization.load_pem_private_key(open(key_path, "rb").read(), None)
other = x509.load_pem_x509_certificate(open(other_path, "rb").read())
ours = cbor2.loads(cert.extensions.get_extension_for_oid(DICE).value.value)
theirs = cbor2.loads(other.extensions.get_extension_for_oid(DICE).value.value)
value = cbor2.dumps(cbor2.CBORTag(ours.tag, [theirs.value[0], ours.value[1]]))
builder = (x509.CertificateBuilder().subject_name(cert.subject).issuer_name(cert.issuer)
           .public_key(cert.public_key()).serial_number(cert.serial_number)
           .not_valid_before(cert.not_valid_before).not_valid_after(cert.not_valid_after))
for ext in cert.extensions:
    builder = builder.add_extension(
        x509.UnrecognizedExtension(DICE, value) if ext.oid == DICE else ext.value, ext.critical)
out = builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)
open(out_path, "wb").write(out)
