# SPDX-License-Identifier: Apache-2.0
"""An independent JOSE peer for the interop tests, on Debian's python3-jwt (PyJWT),
python3-jwcrypto and python3-cryptography. It shares nothing with ccz but the wire formats.
Each command prints its result on standard output and exits 0, or exits 1 with a reason.

  jose_peer.py jwt-verify JWKS.json TOKEN            claims as compact JSON
  jose_peer.py jwt-sign KEY.pem KID CLAIMS.json     an ES256/ES384 token (by the key's curve)
  jose_peer.py jwt-none KID CLAIMS.json             an unsigned token (alg none)
  jose_peer.py jwt-hs256 PUB.pem KID CLAIMS.json    HS256 keyed with the public key's DER
  jose_peer.py jwe-decrypt KEY.pem JWE.json          the plaintext, hex
  jose_peer.py jwe-encrypt PUB.pem ALG HEX [HDR AAD] a flattened JWE (enc A256GCM); HDR: more
                                                     protected header members (JSON), AAD: its aad
  jose_peer.py thumbprint PUB.pem                    the RFC 7638 thumbprint
  jose_peer.py jcs DOC.json                          the RFC 8785 form (integers only), UTF-8
"""
import json
import sys

import jwt
from cryptography.hazmat.primitives.serialization import (Encoding, PublicFormat,
                                                          load_pem_private_key,
                                                          load_pem_public_key)
from jwcrypto import jwe, jwk


def jcs(v):
    """RFC 8785 for documents whose numbers are integers of at most 2^53 in magnitude:
    names ordered by their UTF-16 code units, strings as JSON.stringify writes them."""
    if isinstance(v, dict):
        names = sorted(v, key=lambda k: k.encode("utf-16-be"))
        return "{" + ",".join(jcs(k) + ":" + jcs(v[k]) for k in names) + "}"
    if isinstance(v, list):
        return "[" + ",".join(jcs(m) for m in v) + "]"
    if isinstance(v, float):
        if not v.is_integer() or abs(v) > 2**53:
            raise ValueError("not an integer: %r" % v)
        return str(int(v))
    return json.dumps(v, ensure_ascii=False)  # strings, integers, true, false, null


def no_duplicates(pairs):
    if len(set(k for k, _ in pairs)) != len(pairs):
        raise ValueError("duplicate member")
    return dict(pairs)


def main(argv):
    cmd = argv[1]
    if cmd == "jwt-verify":
        keys = json.load(open(argv[2]))
        token = argv[3]
        kid = jwt.get_unverified_header(token).get("kid")
        jwks = jwt.PyJWKSet.from_dict(keys)
        key = next(k for k in jwks.keys if k.key_id == kid)
        claims = jwt.decode(token, key.key, algorithms=["ES256", "ES384"],
                            options={"verify_aud": False})
        print(json.dumps(claims, separators=(",", ":"), sort_keys=True))
    elif cmd == "jwt-sign":
        key = load_pem_private_key(open(argv[2], "rb").read(), None)
        alg = {"secp256r1": "ES256", "secp384r1": "ES384"}[key.curve.name]
        claims = json.load(open(argv[4]))
        print(jwt.encode(claims, key, algorithm=alg, headers={"kid": argv[3]}))
    elif cmd == "jwt-none":
        claims = json.load(open(argv[3]))
        print(jwt.encode(claims, None, algorithm="none", headers={"kid": argv[2]}))
    elif cmd == "jwt-hs256":
        # PyJWT refuses a PEM as an HMAC secret, so the attacker keys it with the DER
        pub = load_pem_public_key(open(argv[2], "rb").read())
        der = pub.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
        claims = json.load(open(argv[4]))
        print(jwt.encode(claims, der, algorithm="HS256", headers={"kid": argv[3]}))
    elif cmd == "jwe-decrypt":
        key = jwk.JWK.from_pem(open(argv[2], "rb").read())
        token = jwe.JWE(algs=["ECDH-ES+A256KW", "RSA-OAEP-256", "RSA1_5", "A256GCM"])
        token.deserialize(open(argv[3]).read(), key=key)
        print(token.payload.hex())
    elif cmd == "jwe-encrypt":
        key = jwk.JWK.from_pem(open(argv[2], "rb").read())
        hdr = {"alg": argv[3], "enc": "A256GCM"}
        hdr.update(json.loads(argv[5]) if len(argv) > 5 else {})
        aad = argv[6].encode() if len(argv) > 6 else None
        token = jwe.JWE(bytes.fromhex(argv[4]), protected=json.dumps(hdr), aad=aad)
        token.add_recipient(key)
        print(token.serialize(compact=False))
    elif cmd == "jcs":
        doc = json.loads(open(argv[2], "rb").read(), object_pairs_hook=no_duplicates)
        sys.stdout.buffer.write(jcs(doc).encode("utf-8"))
    elif cmd == "thumbprint":
        print(jwk.JWK.from_pem(open(argv[2], "rb").read()).thumbprint())
    else:
        raise SystemExit("unknown command " + cmd)


if __name__ == "__main__":
    try:
        main(sys.argv)
    except Exception as e:  # the C test wants an exit status, with the reason on stderr
        print("jose_peer: %s: %s" % (type(e).__name__, e), file=sys.stderr)
        sys.exit(1)
