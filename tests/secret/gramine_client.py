#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A secret-provisioning client written from Gramine's protocol description (its
Documentation/attestation.rst and secret_prov_attest.c's exchange), independently of ccz's C
code, with Python's ssl module only.

    gramine_client.py HOST PORT CA_FILE [CERT KEY] [--request TEXT] [--silent]

Connects over TLS, verifying the server's certificate against CA_FILE and HOST (as Gramine does
with SECRET_PROVISION_CA_CHAIN_PATH and the server's name), presenting CERT/KEY (an RA-TLS
certificate) as the client certificate; sends the request "SECRET_PROVISION_RA_TLS_REQUEST_V1"
and its NUL byte (or TEXT and a NUL); expects "SECRET_PROVISION_RA_TLS_RESPONSE_V1:" and its NUL,
a 32-bit big-endian size, that many bytes of secret, then the end of the connection. Prints one
JSON object: {"ok": true, "size": N, "secret_hex": "..."} or {"ok": false, "stage": ...,
"error": ..., "received": BYTES}.
"""
import json
import socket
import ssl
import struct
import sys

REQUEST = b"SECRET_PROVISION_RA_TLS_REQUEST_V1\x00"     # 35 bytes
RESPONSE = b"SECRET_PROVISION_RA_TLS_RESPONSE_V1:\x00"  # 37 bytes


def recv_exact(tls, n):
    out = b""
    while len(out) < n:
        chunk = tls.recv(n - len(out))
        if not chunk:
            break
        out += chunk
    return out


def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    request = REQUEST
    if "--request" in argv:
        request = argv[argv.index("--request") + 1].encode() + b"\x00"
        args.remove(argv[argv.index("--request") + 1])
    silent = "--silent" in argv
    host, port, ca = args[0], int(args[1]), args[2]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cafile=ca)
    ctx.check_hostname = True
    if len(args) >= 5:
        ctx.load_cert_chain(args[3], args[4])
    result = {"ok": False}
    assert len(REQUEST) == 35 and len(RESPONSE) == 37
    try:
        with socket.create_connection((host, port), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname=host) as tls:
                result["tls"] = tls.version()
                if silent:
                    data = tls.recv(1)
                    result.update(stage="silent", received=len(data))
                    print(json.dumps(result))
                    return 0
                tls.sendall(request)
                head = recv_exact(tls, len(RESPONSE) + 4)
                if len(head) < len(RESPONSE) + 4:
                    result.update(stage="response", error="closed before the response",
                                  received=len(head))
                elif head[:len(RESPONSE)] != RESPONSE:
                    result.update(stage="response", error="wrong magic %r" % head[:40],
                                  received=len(head))
                else:
                    (size,) = struct.unpack(">I", head[len(RESPONSE):])
                    secret = recv_exact(tls, size)
                    if len(secret) != size:
                        result.update(stage="secret", error="%d of %d bytes" % (len(secret), size))
                    else:
                        after = tls.recv(16)  # the server closes after the secret
                        result.update(ok=True, size=size, secret_hex=secret.hex(),
                                      closed_after=(after == b""))
    except ssl.SSLError as e:
        result.update(stage="tls", error=e.reason or str(e))
    except (OSError, ConnectionError) as e:
        result.update(stage="connection", error=str(e))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
