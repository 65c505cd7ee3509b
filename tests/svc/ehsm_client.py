#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""An independent eHSM-KMS client, written from Intel eHSM's own description of its REST
protocol (docs/API_Reference.md and the ehsm_kms_service request checker), not from ccz's C
code: the signed envelope {appid, nonce, timestamp, sign, payload}, the canonical string that
is HMAC-SHA256'd with the apikey, and the {code, message, result} answers.

--server says whose answers to expect where the two differ (docs/kms.md lists it): eHSM
answers HTTP 200 whatever the code, ccz sends the code as the HTTP status too; a key used
for the wrong purpose is eHSM's 500 "Server exception." and ccz's 400 naming the key's usage;
an unknown appid is eHSM's answer without a message and ccz's 400 "appid error: ...".

  ehsm_client.py selftest
  ehsm_client.py URL --cacert PEM [--admin-token T] enroll
  ehsm_client.py URL --cacert PEM --appid ID --apikey KEY [--appid2 ID --apikey2 KEY] run-all

URL is the service root (https://host:port); requests go to URL/ehsm?Action=<Name>.
run-all prints one line per check and exits 0 only when every check passed."""
import argparse
import base64
import decimal
import hashlib
import hmac
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
import uuid

import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

# --------------------------------------------------------------------------------------------
# The canonical string. eHSM joins `key=value` with `&`, keys in ascending (UTF-16 code unit)
# order, recursing into objects and arrays (array indices are the keys) without brackets or
# escaping, and leaves out every value that JavaScript's loose `v != ''` calls empty: null,
# "", 0, false, [] and [""]. Numbers are written as JavaScript writes them.


def js_number(x):
    """JavaScript's Number::toString for a JSON number."""
    if isinstance(x, int) and abs(x) < 2**53:
        return str(x)
    x = float(x)
    if x == 0:
        return "0"
    sign = "-" if x < 0 else ""
    d = decimal.Decimal(repr(abs(x)))  # repr is the shortest round-trip form, like JS
    t = d.as_tuple()
    digits = "".join(map(str, t.digits)).rstrip("0") or "0"
    # value = 0.<digits> * 10**n
    n = len(t.digits) + t.exponent
    k = len(digits)
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * (-n) + digits
    e = n - 1
    es = ("+" if e > 0 else "-") + str(abs(e))
    if k == 1:
        return sign + digits + "e" + es
    return sign + digits[0] + "." + digits[1:] + "e" + es


def js_string(v):
    """JavaScript's String(v) for a JSON value (used only to decide emptiness)."""
    if v is None:
        return ""
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, (int, float)):
        return js_number(v)
    if isinstance(v, str):
        return v
    if isinstance(v, list):
        return ",".join(js_string(e) for e in v)
    return "[object Object]"


def js_empty(v):
    """True when eHSM leaves the value out: undefined/null, or v == '' under JS loose equality."""
    if v is None:
        return True
    if v is True:
        return False  # true == '' compares 1 with 0
    if v is False:
        return True
    if isinstance(v, (int, float)):
        return v == 0
    if isinstance(v, str):
        return v == ""
    if isinstance(v, list):
        return js_string(v) == ""
    return False  # an object is never == ''


def canonical(obj):
    if isinstance(obj, list):
        obj = {str(i): v for i, v in enumerate(obj)}
    parts = []
    for k in sorted(obj, key=lambda s: s.encode("utf-16-be")):
        v = obj[k]
        if js_empty(v):
            continue
        if isinstance(v, (dict, list)):
            parts.append(k + "=" + canonical(v))
        else:
            parts.append(k + "=" + js_string(v))
    return "&".join(parts)


def signature(apikey, appid, timestamp, payload=None, nonce=None):
    params = {"appid": appid, "timestamp": timestamp}
    if nonce is not None:
        params["nonce"] = nonce
    if payload is not None:
        params["payload"] = payload
    mac = hmac.new(apikey.encode(), canonical(params).encode(), hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


def now_ms():
    return str(int(time.time() * 1000))


# --------------------------------------------------------------------------------------------
# selftest: the canonical string of documented/derived examples and the HMAC.

DOC_APPID = "3309ecfa-d02f-49b3-a107-b47d6c7d3854"  # docs/API_Reference.md, Enroll example
DOC_APIKEY = "44RPFy3SEqLbAahaP9PXSGQ6ABB6gctr"
EDGE_PAYLOAD = {"z": 0, "y": False, "x": True, "w": "", "v": None, "u": [], "t": ["a", "b"],
                "s": {}, "r": {"b": 2, "a": "1"}, "q": 1.5, "p": "0", "o": -1,
                "n": list(range(12)), "m": 1e21, "l": "a=b&c", "k": [""], "j": [{"x": 1}],
                "i": ["", "q"], "h": 100000000000000000000, "g": 0.1}
SELFTEST_VECTORS = [
    # (params, canonical string, sign with DOC_APIKEY)
    ({"appid": DOC_APPID, "timestamp": "1643050812444",
      "payload": {"keyspec": "EH_RSA_3072", "origin": "EH_INTERNAL_KEY",
                  "keyusage": "EH_KEYUSAGE_ENCRYPT_DECRYPT"}},
     "appid=3309ecfa-d02f-49b3-a107-b47d6c7d3854&payload=keyspec=EH_RSA_3072"
     "&keyusage=EH_KEYUSAGE_ENCRYPT_DECRYPT&origin=EH_INTERNAL_KEY&timestamp=1643050812444",
     "NfZ5JFzLxoXZdjPiUDiBQoTZUTElZGYTrFbPMldnxiw="),
    ({"appid": "a", "nonce": "n", "timestamp": "t", "payload": EDGE_PAYLOAD},
     "appid=a&nonce=n&payload=g=0.1&h=100000000000000000000&i=1=q&j=0=x=1&l=a=b&c&m=1e+21"
     "&n=1=1&10=10&11=11&2=2&3=3&4=4&5=5&6=6&7=7&8=8&9=9&o=-1&p=0&q=1.5&r=a=1&b=2&s=&t=0=a&1=b"
     "&x=true&timestamp=t",
     "dax2ZEXSfhlmh6LyqYgWo2fSPEEREymQuABWKFlshwI="),
    ({"appid": "a", "timestamp": "t", "payload": {}}, "appid=a&payload=&timestamp=t", None),
    ({"appid": "a", "timestamp": "t"}, "appid=a&timestamp=t", None),
    ({"appid": "a", "timestamp": "t", "nonce": None,
      "payload": {"aad": "", "keyid": "k", "plaintext": "cGxhaW50ZXh0", "keylen": 16}},
     "appid=a&payload=keyid=k&keylen=16&plaintext=cGxhaW50ZXh0&timestamp=t", None),
]


def selftest():
    ok = True

    def check(cond, what):
        nonlocal ok
        print(("ok   " if cond else "FAIL ") + what)
        ok = ok and cond

    for params, want, want_sign in SELFTEST_VECTORS:
        got = canonical(params)
        check(got == want, "canonical string " + want[:60] + ("..." if len(want) > 60 else ""))
        if want_sign:
            mac = hmac.new(DOC_APIKEY.encode(), want.encode(), hashlib.sha256).digest()
            check(base64.b64encode(mac).decode() == want_sign, "sign " + want_sign)
            p = params.get("payload")
            check(signature(DOC_APIKEY, params["appid"], params["timestamp"], p,
                            params.get("nonce")) == want_sign, "signature() " + want_sign)
    # RFC 4231 test case 2: the HMAC-SHA256 itself
    mac = hmac.new(b"Jefe", b"what do ya want for nothing?", hashlib.sha256).hexdigest()
    check(mac == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
          "HMAC-SHA256 RFC 4231 case 2")
    for x, want in [(16, "16"), (-1, "-1"), (1.5, "1.5"), (0.1, "0.1"), (1e21, "1e+21"),
                    (1e20, "100000000000000000000"), (1e-7, "1e-7"), (1.25e-7, "1.25e-7"),
                    (0.000001, "0.000001"), (123456789012345680000.0, "123456789012345680000"),
                    (2**53 + 2, "9007199254740994"), (16.0, "16")]:
        check(js_number(x) == want, "JS number %r -> %s" % (x, want))
    return 0 if ok else 1


# --------------------------------------------------------------------------------------------
# The client.


class Client:
    def __init__(self, url, cacert, appid=None, apikey=None):
        url = url.rstrip("/")
        self.endpoint = url if url.endswith("/ehsm") else url + "/ehsm"
        self.verify = cacert if cacert else True
        self.appid, self.apikey = appid, apikey
        self.session = requests.Session()

    def get(self, action):
        r = self.session.get(self.endpoint, params={"Action": action}, verify=self.verify,
                             timeout=30)
        return r.status_code, r.json()

    def envelope(self, payload=None, appid=None, apikey=None, timestamp=None, nonce="auto",
                 sign=None):
        appid = appid or self.appid
        apikey = apikey or self.apikey
        timestamp = timestamp or now_ms()
        if nonce == "auto":
            nonce = secrets.token_hex(16)
        body = {"appid": appid, "timestamp": timestamp}
        if nonce is not None:
            body["nonce"] = nonce
        if payload is not None:
            body["payload"] = payload
        body["sign"] = sign or signature(apikey, appid, timestamp, payload, nonce)
        return body

    def post_raw(self, action, data, content_type="application/json"):
        r = self.session.post(self.endpoint, params={"Action": action}, data=data,
                              headers={"Content-Type": content_type}, verify=self.verify,
                              timeout=120)
        try:
            return r.status_code, r.json()
        except ValueError:
            return r.status_code, {"_raw": r.text}

    def post(self, action, payload=None, **kw):
        return self.post_raw(action, json.dumps(self.envelope(payload, **kw)))


def b64(data):
    return base64.b64encode(data).decode()


def unb64(s):
    return base64.b64decode(s, validate=True)


UUID_RE = re.compile(r"^[a-z\d]{8}-[a-z\d]{4}-[a-z\d]{4}-[a-z\d]{4}-[a-z\d]{12}$")
SYMMETRIC = ["EH_AES_GCM_128", "EH_AES_GCM_192", "EH_AES_GCM_256", "EH_SM4_CTR", "EH_SM4_CBC"]
RSA_SPECS = {"EH_RSA_2048": 256, "EH_RSA_3072": 384, "EH_RSA_4096": 512}
EC_SPECS = {"EH_EC_P224": ec.SECP224R1, "EH_EC_P256": ec.SECP256R1,
            "EH_EC_P256K": ec.SECP256K1, "EH_EC_P384": ec.SECP384R1, "EH_EC_P521": ec.SECP521R1}
DIGESTS = {"EH_SHA_224": hashes.SHA224, "EH_SHA_256": hashes.SHA256,
           "EH_SHA_384": hashes.SHA384, "EH_SHA_512": hashes.SHA512}
SERVER = "ccz"  # --server
USAGE_SIGN = ("Parameter invalid, this key's keyusage is EH_KEYUSAGE_SIGN_VERIFY, not "
              "EH_KEYUSAGE_ENCRYPT_DECRYPT.")
USAGE_ENC = ("Parameter invalid, this key's keyusage is EH_KEYUSAGE_ENCRYPT_DECRYPT, not "
             "EH_KEYUSAGE_SIGN_VERIFY.")
ENC = "EH_KEYUSAGE_ENCRYPT_DECRYPT"
SIG = "EH_KEYUSAGE_SIGN_VERIFY"


class Run:
    def __init__(self, client, client2):
        self.c, self.c2 = client, client2
        self.failures = 0
        self.checks = 0
        self.created = []  # (client, keyid)

    def check(self, cond, what, detail=None):
        self.checks += 1
        if cond:
            print("ok   " + what)
        else:
            self.failures += 1
            print("FAIL " + what + ("" if detail is None else "  -- got " + str(detail)[:400]))
        return cond

    def skip(self, what):
        print("skip " + what)

    # A successful call: HTTP 200, code 200 and the success message eHSM uses for the action.
    def ok(self, action, payload=None, message="success!", client=None, **kw):
        status, body = (client or self.c).post(action, payload, **kw)
        good = (status == 200 and isinstance(body, dict) and body.get("code") == 200
                and body.get("message") == message and isinstance(body.get("result"), dict))
        if not good:  # a successful call is not a line of its own; the checks on it are
            self.check(False, "%s -> 200 %r" % (action, message), (status, body))
            raise StepFailed(action)
        return body["result"]

    # A refused call: the exact {code, message, result:{}} (HTTP 200 from eHSM, the code
    # itself from ccz); ccz=(code, message) where ccz answers otherwise (see the docstring).
    def refused(self, what, action, payload, code, message, client=None, raw=None, ccz=None,
                **kw):
        if ccz and SERVER == "ccz":
            code, message = ccz
        c = client or self.c
        if raw is not None:
            status, body = c.post_raw(action, raw)
        else:
            status, body = c.post(action, payload, **kw)
        want_status = code if SERVER == "ccz" else 200
        if message is None:  # eHSM sends no "message" key at all (unknown appid)
            good = status == want_status and body == {"code": code, "result": {}}
        else:
            good = status == want_status and body == {"code": code, "message": message,
                                                      "result": {}}
        self.check(good, "%s -> %d %s" % (what, code, "(no message)" if message is None else
                                          repr(message)), (status, body))
        return body

    def create(self, keyspec, usage, client=None, origin="EH_INTERNAL_KEY"):
        r = self.ok("CreateKey", {"keyspec": keyspec, "origin": origin, "keyusage": usage},
                    client=client)
        keyid = r.get("keyid", "")
        self.check(UUID_RE.match(keyid) is not None and set(r) == {"keyid"},
                   "CreateKey %s %s -> keyid %s" % (keyspec, usage, keyid), r)
        self.created.append((client or self.c, keyid))
        return keyid

    def step(self, name, fn):
        try:
            fn()
        except StepFailed:
            self.check(False, "%s: stopped after a failed call" % name)
        except Exception as e:  # a malformed answer must fail the check, not the run
            self.check(False, "%s: %s: %s" % (name, type(e).__name__, e))

    # ----------------------------------------------------------------------------------------

    def version(self, when):
        status, body = self.c.get("GetVersion")
        r = body.get("result", {}) if isinstance(body, dict) else {}
        self.check(status == 200 and body.get("code") == 200 and body.get("message") == "success!"
                   and isinstance(r.get("version"), str) and isinstance(r.get("git_sha"), str),
                   "GetVersion (%s) -> version %r" % (when, r.get("version")), (status, body))

    def symmetric(self):
        for spec in SYMMETRIC:
            self.step(spec, lambda: self.symmetric_one(spec))

    def symmetric_one(self, spec):
        aad = b64(b"additional data")
        keyid = self.create(spec, ENC)
        sizes = (1, 15, 16, 100, 6143 if spec == "EH_SM4_CBC" else 6144)
        for n in sizes:
            pt = os.urandom(n)
            ct = unb64(self.ok("Encrypt", {"keyid": keyid, "plaintext": b64(pt),
                                           "aad": aad})["ciphertext"])
            if spec.startswith("EH_AES"):
                want = n + 12 + 16
            elif spec == "EH_SM4_CTR":
                want = n + 16
            else:
                want = (n // 16 + 1) * 16 + 16
            self.check(len(ct) == want, "%s ciphertext of %d bytes is %d bytes" %
                       (spec, n, want), len(ct))
            r = self.ok("Decrypt", {"keyid": keyid, "ciphertext": b64(ct), "aad": aad})
            self.check(unb64(r["plaintext"]) == pt, "%s Decrypt(Encrypt(%d bytes))" %
                       (spec, n))
        # no aad at all
        pt = b"no aad"
        ct = self.ok("Encrypt", {"keyid": keyid, "plaintext": b64(pt)})["ciphertext"]
        r = self.ok("Decrypt", {"keyid": keyid, "ciphertext": ct})
        self.check(unb64(r["plaintext"]) == pt, "%s round trip without aad" % spec)
        if spec.startswith("EH_AES"):
            ct = self.ok("Encrypt", {"keyid": keyid, "plaintext": b64(b"x" * 20),
                                     "aad": aad})["ciphertext"]
            self.refused("%s Decrypt with another aad" % spec, "Decrypt",
                         {"keyid": keyid, "ciphertext": ct, "aad": b64(b"other")}, 400,
                         "Decryption failed, Please confirm that your parameters are correct.")
            raw = bytearray(unb64(ct))
            raw[0] ^= 1
            self.refused("%s Decrypt of a modified ciphertext" % spec, "Decrypt",
                         {"keyid": keyid, "ciphertext": b64(bytes(raw)), "aad": aad}, 400,
                         "Decryption failed, Please confirm that your parameters are correct.")
        if spec == "EH_SM4_CBC":
            # eHSM's checker caps a Decrypt ciphertext at (6144 + 30) * 4 / 3 base64
            # characters, less than a padded SM4-CBC ciphertext of 6144 bytes needs
            ct = self.ok("Encrypt", {"keyid": keyid, "plaintext": b64(bytes(6144))})
            self.refused("EH_SM4_CBC Decrypt of a 6144-byte plaintext's ciphertext",
                         "Decrypt", {"keyid": keyid, "ciphertext": ct["ciphertext"]}, 400,
                         "Parameter invalid, The ciphertext length error.")
        if spec == "EH_AES_GCM_128" and SERVER == "ccz":  # ccz's refusal (eHSM's not recorded)
            skey = self.create(spec, SIG)
            self.refused("%s Sign with a symmetric key" % spec, "Sign",
                         {"keyid": skey, "message": b64(b"m"), "message_type": "EH_RAW",
                          "digest_mode": "EH_SHA_256", "padding_mode": "EH_PAD_NONE"}, 400,
                         "Parameter invalid, Sign is not possible with a %s key." % spec)
        self.datakeys(spec, keyid)
        self.sym_key = keyid  # used by the management checks

    def datakeys(self, spec, keyid):
        aad = b64(b"datakey aad")
        r = self.ok("GenerateDataKey", {"keyid": keyid, "keylen": 32, "aad": aad})
        dk = unb64(r["plaintext"])
        self.check(len(dk) == 32 and set(r) == {"plaintext", "ciphertext"},
                   "%s GenerateDataKey keylen 32 -> 32 plaintext bytes" % spec, r)
        back = unb64(self.ok("Decrypt", {"keyid": keyid, "ciphertext": r["ciphertext"],
                                         "aad": aad})["plaintext"])
        self.check(back == dk, "%s Decrypt(GenerateDataKey.ciphertext) == plaintext" % spec)
        r2 = self.ok("GenerateDataKeyWithoutPlaintext", {"keyid": keyid, "keylen": 48,
                                                         "aad": aad})
        self.check(set(r2) == {"ciphertext"},
                   "%s GenerateDataKeyWithoutPlaintext returns only ciphertext" % spec, r2)
        back = unb64(self.ok("Decrypt", {"keyid": keyid, "ciphertext": r2["ciphertext"],
                                         "aad": aad})["plaintext"])
        self.check(len(back) == 48, "%s Decrypt(WithoutPlaintext keylen 48) is 48 bytes" % spec,
                   len(back))
        if spec == "EH_AES_GCM_256":
            self.datakey_for_export = (keyid, r["ciphertext"], dk, aad)

    def rsa(self):
        for spec, size in RSA_SPECS.items():
            self.step(spec, lambda: self.rsa_one(spec, size))

    def rsa_one(self, spec, size):
        keyid = self.create(spec, SIG)
        pub = self.public_key(keyid, "-----BEGIN RSA PUBLIC KEY-----")
        self.check(isinstance(pub, rsa.RSAPublicKey) and pub.key_size == size * 8,
                   "%s GetPublicKey is a %d-bit RSA key" % (spec, size * 8))
        cases = [("EH_RSA_PKCS1", "EH_SHA_256"), ("EH_RSA_PKCS1_PSS", "EH_SHA_256"),
                 ("EH_RSA_PKCS1", "EH_SHA_512"), ("EH_RSA_PKCS1_PSS", "EH_SHA_384")]
        for pad, dig in cases:
            self.sign_verify(spec, keyid, pub, pad, dig, "EH_RAW", size)
        self.sign_verify(spec, keyid, pub, "EH_RSA_PKCS1", "EH_SHA_256", "EH_DIGEST", size)
        self.sign_verify(spec, keyid, pub, "EH_RSA_PKCS1_PSS", "EH_SHA_256", "EH_DIGEST",
                         size)
        self.refused("%s Encrypt with a SIGN_VERIFY key" % spec, "Encrypt",
                     {"keyid": keyid, "plaintext": b64(b"x")}, 500, "Server exception.",
                     ccz=(400, USAGE_SIGN))
        # encryption key
        ekey = self.create(spec, ENC)
        epub = self.public_key(ekey, "-----BEGIN RSA PUBLIC KEY-----")
        oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(),
                            label=None)
        for pad in ("EH_RSA_PKCS1_OAEP", "EH_RSA_PKCS1"):
            pt = os.urandom(100)
            ct = unb64(self.ok("AsymmetricEncrypt", {"keyid": ekey, "plaintext": b64(pt),
                                                     "padding_mode": pad})["ciphertext"])
            self.check(len(ct) == size, "%s AsymmetricEncrypt %s ciphertext is %d bytes" %
                       (spec, pad, size), len(ct))
            back = self.ok("AsymmetricDecrypt", {"keyid": ekey, "ciphertext": b64(ct),
                                                 "padding_mode": pad})["plaintext"]
            self.check(unb64(back) == pt, "%s AsymmetricDecrypt(AsymmetricEncrypt) %s" %
                       (spec, pad))
        pt = os.urandom(size - 66)  # the OAEP-SHA-256 maximum
        ct = epub.encrypt(pt, oaep)
        back = self.ok("AsymmetricDecrypt", {"keyid": ekey, "ciphertext": b64(ct),
                                             "padding_mode": "EH_RSA_PKCS1_OAEP"})["plaintext"]
        self.check(unb64(back) == pt, "%s AsymmetricDecrypt of a local OAEP-SHA256 "
                   "encryption (%d bytes)" % (spec, len(pt)))
        ct = epub.encrypt(b"pkcs1 v1.5", padding.PKCS1v15())
        back = self.ok("AsymmetricDecrypt", {"keyid": ekey, "ciphertext": b64(ct),
                                             "padding_mode": "EH_RSA_PKCS1"})["plaintext"]
        self.check(unb64(back) == b"pkcs1 v1.5", "%s AsymmetricDecrypt of a local "
                   "PKCS#1 v1.5 encryption" % spec)
        self.refused("%s Sign with an ENCRYPT_DECRYPT key" % spec, "Sign",
                     {"keyid": ekey, "message": b64(b"m"), "message_type": "EH_RAW",
                      "digest_mode": "EH_SHA_256", "padding_mode": "EH_RSA_PKCS1"},
                     500, "Server exception.", ccz=(400, USAGE_ENC))
        if spec == "EH_RSA_2048" and SERVER == "ccz":  # ccz's refusal (eHSM's not recorded)
            self.refused("%s Encrypt (symmetric) with an RSA key" % spec, "Encrypt",
                         {"keyid": ekey, "plaintext": b64(b"x")}, 400,
                         "Parameter invalid, Encrypt is not possible with a %s key." % spec)
        if spec == "EH_RSA_3072":
            self.export(ekey, epub)

    def export(self, ukeyid, upub):
        if not hasattr(self, "datakey_for_export"):
            self.skip("ExportDataKey: no AES-256 data key was made")
            return
        keyid, ciphertext, dk, aad = self.datakey_for_export
        r = self.ok("ExportDataKey", {"keyid": keyid, "ukeyid": ukeyid, "aad": aad,
                                      "olddatakey_base": ciphertext})
        new = r.get("newdatakey", "")
        back = self.ok("AsymmetricDecrypt", {"keyid": ukeyid, "ciphertext": new,
                                             "padding_mode": "EH_RSA_PKCS1_OAEP"})["plaintext"]
        self.check(unb64(back) == dk, "ExportDataKey: AsymmetricDecrypt(newdatakey, OAEP) is "
                   "the data key")
        self.check(len(unb64(new)) == upub.key_size // 8, "ExportDataKey newdatakey is one RSA "
                   "block", len(unb64(new)))
        req = {"keyid": keyid, "ukeyid": ukeyid, "aad": aad, "olddatakey_base": ciphertext}
        self.refused("ExportDataKey of an olddatakey_base that is not base64", "ExportDataKey",
                     dict(req, olddatakey_base="not base64!"), 400,
                     "Parameter invalid, The olddatakey_base not a vailed base64 string.")
        self.refused("ExportDataKey to a ukeyid that is not a key id", "ExportDataKey",
                     dict(req, ukeyid="1234"), 400, "keyid error")

    def public_key(self, keyid, header):
        r = self.ok("GetPublicKey", {"keyid": keyid})
        pem = r.get("pubkey", "")
        self.check(pem.startswith(header + "\n") and r.get("keyid") == keyid,
                   "GetPublicKey PEM starts with %s and echoes the keyid" % header,
                   pem[:40])
        return serialization.load_pem_public_key(pem.encode())

    def sign_verify(self, spec, keyid, pub, pad, dig, mtype, size=None, local=True):
        msg = os.urandom(300)
        if mtype == "EH_DIGEST":
            h = hashes.Hash(DIGESTS[dig]() if dig in DIGESTS else hashes.SM3())
            h.update(msg)
            sent = h.finalize()
        else:
            sent = msg
        p = {"keyid": keyid, "message": b64(sent), "message_type": mtype, "digest_mode": dig,
             "padding_mode": pad}
        sig = unb64(self.ok("Sign", p)["signature"])
        what = "%s Sign %s %s %s" % (spec, pad, dig, mtype)
        if size:
            self.check(len(sig) == size, what + ": signature is %d bytes" % size, len(sig))
        r = self.ok("Verify", dict(p, signature=b64(sig)))
        self.check(r == {"result": True}, what + ": Verify -> result true", r)
        other = dict(p, signature=b64(sig))
        if mtype == "EH_DIGEST":
            other["message"] = b64(bytes(len(sent)))
        else:
            other["message"] = b64(msg + b"!")
        r = self.ok("Verify", other)
        self.check(r == {"result": False}, what + ": Verify of another message -> result false",
                   r)
        if not local:
            return
        try:
            if isinstance(pub, rsa.RSAPublicKey):
                h = DIGESTS[dig]()
                pd = (padding.PKCS1v15() if pad == "EH_RSA_PKCS1" else
                      padding.PSS(mgf=padding.MGF1(h), salt_length=h.digest_size))
                if mtype == "EH_DIGEST":
                    from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
                    pub.verify(sig, sent, pd, Prehashed(h))
                else:
                    pub.verify(sig, msg, pd, h)
            else:
                pub.verify(sig, msg, ec.ECDSA(DIGESTS[dig]()))
            self.check(True, what + ": python-cryptography verifies it with GetPublicKey's key")
        except InvalidSignature:
            self.check(False, what + ": python-cryptography verifies it with GetPublicKey's key")

    def ecc(self):
        for spec, curve in EC_SPECS.items():
            self.step(spec, lambda: self.ecc_one(spec, curve))

    def ecc_one(self, spec, curve):
        keyid = self.create(spec, SIG)
        pub = self.public_key(keyid, "-----BEGIN PUBLIC KEY-----")
        self.check(isinstance(pub, ec.EllipticCurvePublicKey) and
                   isinstance(pub.curve, curve), "%s GetPublicKey is on %s" %
                   (spec, curve.name))
        self.sign_verify(spec, keyid, pub, "EH_PAD_NONE", "EH_SHA_256", "EH_RAW")
        self.sign_verify(spec, keyid, pub, "EH_PAD_NONE", "EH_SHA_384", "EH_RAW")
        self.sign_verify(spec, keyid, pub, "EH_PAD_NONE", "EH_SHA_256", "EH_DIGEST",
                         local=False)
        self.refused("%s Sign without padding_mode" % spec, "Sign",
                     {"keyid": keyid, "message": b64(b"m"), "message_type": "EH_RAW",
                      "digest_mode": "EH_SHA_256"}, 400,
                     "Missing required parameters, The padding_mode cannot be empty.")
        self.refused("%s AsymmetricEncrypt (EC has none)" % spec, "AsymmetricEncrypt",
                     {"keyid": keyid, "plaintext": b64(b"m"),
                      "padding_mode": "EH_PAD_NONE"}, 500, "Server exception.",
                     ccz=(400, USAGE_SIGN))

    def sm2(self):
        keyid = self.create("EH_SM2", SIG)
        r = self.ok("GetPublicKey", {"keyid": keyid})
        self.check(r.get("pubkey", "").startswith("-----BEGIN PUBLIC KEY-----\n"),
                   "EH_SM2 GetPublicKey is an SPKI PEM", r.get("pubkey", "")[:40])
        self.sign_verify("EH_SM2", keyid, None, "EH_PAD_NONE", "EH_SM3", "EH_RAW", local=False)
        # python-cryptography has no SM2: the OpenSSL command line checks the signature (SM3,
        # eHSM's user id 1234567812345678), an implementation other than the server's code
        msg = b"sm2 message"
        sig = unb64(self.ok("Sign", {"keyid": keyid, "message": b64(msg),
                                     "message_type": "EH_RAW", "digest_mode": "EH_SM3",
                                     "padding_mode": "EH_PAD_NONE"})["signature"])
        with tempfile.TemporaryDirectory() as d:
            for name, data in (("pub.pem", r["pubkey"].encode()), ("msg", msg), ("sig", sig)):
                with open(os.path.join(d, name), "wb") as f:
                    f.write(data)
            v = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey",
                                os.path.join(d, "pub.pem"), "-rawin", "-digest", "sm3",
                                "-pkeyopt", "distid:1234567812345678", "-in",
                                os.path.join(d, "msg"), "-sigfile", os.path.join(d, "sig")],
                               capture_output=True, text=True)
        self.check(v.returncode == 0 and "Signature Verified Successfully" in v.stdout,
                   "EH_SM2 signature verified by openssl pkeyutl (SM3, id 1234567812345678)",
                   (v.returncode, v.stdout + v.stderr))
        ekey = self.create("EH_SM2", ENC)
        pt = os.urandom(200)
        ct = self.ok("AsymmetricEncrypt", {"keyid": ekey, "plaintext": b64(pt),
                                           "padding_mode": "EH_PAD_NONE"})["ciphertext"]
        self.check(unb64(ct)[0] == 0x30, "EH_SM2 ciphertext is a DER SEQUENCE")
        back = self.ok("AsymmetricDecrypt", {"keyid": ekey, "ciphertext": ct,
                                             "padding_mode": "EH_PAD_NONE"})["plaintext"]
        self.check(unb64(back) == pt, "EH_SM2 AsymmetricDecrypt(AsymmetricEncrypt)")

    def management(self):
        r = self.ok("ListKey", message="successful")
        lst = r.get("list")
        mine = {k for c, k in self.created if c is self.c}
        self.check(isinstance(lst, list), "ListKey result.list is an array", r)
        listed = {e.get("keyid"): e for e in lst}
        self.check(mine <= set(listed), "ListKey lists every key made by this run",
                   mine - set(listed))
        e = listed.get(self.sym_key, {})
        self.check(set(e) == {"keyid", "creationDate", "expireTime", "alias", "keyspec",
                              "keyState"} and e.get("keyspec") == "EH_SM4_CBC" and
                   e.get("keyState") == 1 and isinstance(e.get("creationDate"), int) and
                   e.get("expireTime") == e.get("creationDate") + 365 * 24 * 3600 * 1000,
                   "ListKey entry fields of an EH_SM4_CBC key", e)
        k = self.create("EH_AES_GCM_128", ENC)
        enc = {"keyid": k, "plaintext": b64(b"hello"), "aad": b64(b"a")}
        ct = self.ok("Encrypt", enc)["ciphertext"]
        self.check(self.ok("DisableKey", {"keyid": k}, message="successful") == {},
                   "DisableKey result is {}")
        self.refused("Encrypt with a disabled key", "Encrypt", enc, 400, "keyid is disabled")
        self.refused("Decrypt with a disabled key", "Decrypt",
                     {"keyid": k, "ciphertext": ct, "aad": b64(b"a")}, 400, "keyid is disabled")
        lst = self.ok("ListKey", message="successful")["list"]
        state = [e.get("keyState") for e in lst if e.get("keyid") == k]
        self.check(state == [0], "ListKey shows keyState 0 for the disabled key", state)
        self.ok("EnableKey", {"keyid": k}, message="successful")
        self.ok("Encrypt", enc)
        self.ok("DeleteKey", {"keyid": k}, message="successful")
        self.refused("Encrypt with a deleted key", "Encrypt", enc, 400, "keyid error")
        self.ok("DeleteKey", {"keyid": k}, message="successful")  # eHSM: a no-op, still 200
        self.refused("EnableKey of a deleted key", "EnableKey", {"keyid": k}, 400,
                     "not find this keyid")
        self.refused("DisableKey of an unknown key", "DisableKey", {"keyid": str(uuid.uuid4())},
                     400, "not find this keyid")
        lst = self.ok("ListKey", message="successful")["list"]
        self.check(all(e.get("keyid") != k for e in lst), "ListKey no longer lists it")
        self.refused("Encrypt with an unknown keyid", "Encrypt",
                     {"keyid": str(uuid.uuid4()), "plaintext": b64(b"x")}, 400, "keyid error")

    def negatives(self):
        c = self.c
        k = self.sym_key
        enc = {"keyid": k, "plaintext": b64(b"hello")}
        body = c.envelope(enc)
        body["sign"] = body["sign"][:-4] + ("AAA=" if body["sign"][-4:] != "AAA=" else "BBB=")
        self.refused("wrong signature", "Encrypt", None, 400, "sign error", raw=json.dumps(body))
        self.refused("signature made with another apikey", "Encrypt", enc, 400, "sign error",
                     apikey="X" * 32)
        body = c.envelope(enc)
        body["sign"] = body["sign"].upper()  # what docs/API_Reference.md's samples do
        if body["sign"] != c.envelope(enc)["sign"]:
            self.refused("upper-cased signature (the docs' sample)", "Encrypt", None, 400,
                         "sign error", raw=json.dumps(body))
        old = str(int(time.time() * 1000) - 11 * 60 * 1000)
        self.refused("timestamp 11 minutes old", "Encrypt", enc, 400, "Timestamp error",
                     timestamp=old)
        new = str(int(time.time() * 1000) + 11 * 60 * 1000)
        self.refused("timestamp 11 minutes ahead", "Encrypt", enc, 400, "Timestamp error",
                     timestamp=new)
        self.refused("timestamp of 12 digits", "Encrypt", enc, 400, "Timestamp length error",
                     timestamp=str(int(time.time())) + "00")
        self.refused("timestamp in seconds", "Encrypt", enc, 400, "Timestamp length error",
                     timestamp=str(int(time.time())))
        self.refused("timestamp of 14 digits", "Encrypt", enc, 400, "Timestamp length error",
                     timestamp=str(int(time.time() * 1000)) + "0")
        self.ok("Encrypt", enc, timestamp=str(int(time.time() * 1000) - 8 * 60 * 1000))
        self.refused("nonce of 65 characters", "Encrypt", enc, 400, "Nonce length error",
                     nonce="n" * 65)
        self.ok("Encrypt", enc, nonce="n" * 64 + "")  # 64 is allowed (and now used)
        # replay: the same request twice
        raw = json.dumps(c.envelope(enc))
        status, b1 = c.post_raw("Encrypt", raw)
        self.check(status == 200 and b1.get("code") == 200, "first sending of a request -> 200",
                   (status, b1))
        self.refused("the same request again (replay)", "Encrypt", None, 400,
                     "Timestamp can't be repeated in 20 minutes", raw=raw)
        # no nonce at all: (appid, timestamp) alone identifies the request
        ts = now_ms()
        self.ok("Encrypt", enc, timestamp=ts, nonce=None)
        self.refused("same timestamp, no nonce, twice", "Encrypt", enc, 400,
                     "Timestamp can't be repeated in 20 minutes", timestamp=ts, nonce=None)
        # an empty nonce is signed as none at all (left out of the canonical string): the
        # request with "nonce": "" is the same signed request, so a replay, either way round
        self.refused("same timestamp, nonce \"\" after no nonce", "Encrypt", enc, 400,
                     "Timestamp can't be repeated in 20 minutes", timestamp=ts, nonce="")
        ts = str(int(ts) + 1)
        self.ok("Encrypt", enc, timestamp=ts, nonce="")
        self.refused("same timestamp, no nonce after nonce \"\"", "Encrypt", enc, 400,
                     "Timestamp can't be repeated in 20 minutes", timestamp=ts, nonce=None)
        # envelope shape
        body = c.envelope(enc)
        del body["sign"]
        self.refused("request without sign", "Encrypt", None, 400, "Missing required parameters",
                     raw=json.dumps(body))
        self.refused("Encrypt without payload", "Encrypt", None, 400,
                     "Missing required parameters")
        body = c.envelope(enc)
        body["timestamp"] = int(body["timestamp"])
        self.refused("timestamp as a JSON number", "Encrypt", None, 400, "param type error",
                     raw=json.dumps(body))
        self.refused("unknown appid", "Encrypt", enc, 400, None, appid=str(uuid.uuid4()),
                     ccz=(400, "appid error: no such app (enroll first)"))
        status, body = c.post_raw("Encrypt", '{"appid": "x", "timestamp": ')
        self.check(status == (400 if SERVER == "ccz" else 200) and body == {"code": 400, "message": "Invalid JSON",
                                              "result": {}},
                   "body that is not JSON -> 400 'Invalid JSON'", (status, body))
        # malformed payloads
        P = "Parameter invalid, The "
        self.refused("plaintext not base64", "Encrypt", {"keyid": k, "plaintext": "not base64!"},
                     400, P + "plaintext not a vailed base64 string.")
        self.refused("plaintext base64url", "Encrypt", {"keyid": k, "plaintext": "-_-_"},
                     400, P + "plaintext not a vailed base64 string.")
        self.refused("plaintext missing", "Encrypt", {"keyid": k}, 400,
                     "Missing required parameters, The plaintext cannot be empty.")
        self.refused("plaintext empty", "Encrypt", {"keyid": k, "plaintext": ""}, 400,
                     "Missing required parameters, The plaintext cannot be empty.")
        self.refused("plaintext over 6 KiB", "Encrypt", {"keyid": k, "plaintext": b64(
            bytes(6145))}, 400, P + "plaintext length error.")
        # the length is checked before the format: 8193 characters (8192 are the most) are a
        # length error, though no base64 either
        self.refused("plaintext of 8193 characters", "Encrypt", {"keyid": k, "plaintext": b64(
            bytes(6144)) + "A"}, 400, P + "plaintext length error.")
        self.refused("plaintext a number", "Encrypt", {"keyid": k, "plaintext": 12}, 400,
                     P + "plaintext must be of string type.")
        self.refused("aad not base64", "Encrypt", {"keyid": k, "plaintext": b64(b"x"),
                                                   "aad": "***"}, 400,
                     P + "aad not a vailed base64 string.")
        self.refused("keyid too short", "Encrypt", {"keyid": "abc", "plaintext": b64(b"x")},
                     400, P + "keyid length error.")
        self.refused("keyid in upper case", "Encrypt", {"keyid": k.upper(),
                                                        "plaintext": b64(b"x")},
                     400, P + "keyid format wrong.")
        self.refused("keyspec unknown", "CreateKey", {"keyspec": "EH_AES_GCM_512",
                                                      "origin": "EH_INTERNAL_KEY",
                                                      "keyusage": ENC}, 400,
                     P + "keyspec type is incorrect.")
        self.refused("origin missing", "CreateKey", {"keyspec": "EH_AES_GCM_128",
                                                     "keyusage": ENC}, 400,
                     "Missing required parameters, The origin cannot be empty.")
        for keylen, msg in ((0, "keylen value must be greater than or equal to 1."),
                            (1025, "keylen value must be less than or equal to 1024."),
                            ("16", "keylen must be of integer type."),
                            (1.5, "keylen must be of integer type.")):
            self.refused("GenerateDataKey keylen %r" % (keylen,), "GenerateDataKey",
                         {"keyid": k, "keylen": keylen}, 400, P + msg)
        self.refused("padding_mode spelled as in the docs (EH_PAD_RSA_PKCS1)",
                     "AsymmetricEncrypt", {"keyid": k, "plaintext": b64(b"x"),
                                           "padding_mode": "EH_PAD_RSA_PKCS1"}, 400,
                     P + "padding_mode type is incorrect.")
        # the payload is checked before the signature
        body = c.envelope({"keyid": k, "plaintext": "%%%%"})
        body["sign"] = "A" * 43 + "="
        self.refused("bad payload with a bad signature reports the payload", "Encrypt", None,
                     400, P + "plaintext not a vailed base64 string.", raw=json.dumps(body))
        # actions
        self.refused("unknown action", "NoSuchAction", {"x": "y"}, 404, "API Not Found")
        self.refused("unknown action (docs' DeleteALLKey spelling)", "DeleteALLKey", None, 404,
                     "API Not Found")
        status, body = c.post_raw("GetVersion", "{}")
        self.check(status == (404 if SERVER == "ccz" else 200) and body == {"code": 404, "message": "API Not Found",
                                              "result": {}},
                   "POST GetVersion -> 404 'API Not Found' (it is a GET)", (status, body))
        status, body = c.get("ListKey")
        self.check(status == (400 if SERVER == "ccz" else 200) and body == {"code": 400, "message":
                                              "Missing required parameters", "result": {}},
                   "GET ListKey -> 400 'Missing required parameters'", (status, body))

    def other_app(self):
        if not self.c2:
            self.skip("another app's keys: no --appid2/--apikey2")
            return
        k2 = self.create("EH_AES_GCM_256", ENC, client=self.c2)
        enc = {"keyid": k2, "plaintext": b64(b"theirs")}
        self.refused("Encrypt with another app's keyid", "Encrypt", enc, 400, "appid error")
        self.refused("GetPublicKey of another app's keyid", "GetPublicKey", {"keyid": k2}, 400,
                     "appid error")
        self.refused("DisableKey of another app's keyid", "DisableKey", {"keyid": k2}, 400,
                     "not find this keyid")
        self.ok("DeleteKey", {"keyid": k2}, message="successful")  # silently nothing
        self.ok("Encrypt", enc, client=self.c2)
        self.check(self.c2.appid != self.c.appid, "the second app is another appid")
        lst = self.ok("ListKey", message="successful", client=self.c2)["list"]
        ids = {e.get("keyid") for e in lst}
        mine = {k for c, k in self.created if c is self.c}
        self.check(k2 in ids and not (ids & mine), "ListKey of app 2 lists its key and none "
                   "of app 1's")
        self.refused("app 1's envelope signed with app 2's apikey", "Encrypt",
                     {"keyid": self.sym_key, "plaintext": b64(b"x")}, 400, "sign error",
                     apikey=self.c2.apikey)

    # Bring your own key: an EH_EXTERNAL_KEY has no material until ImportKeyMaterial brings
    # some, wrapped with RSA-OAEP (SHA-256) under the public key GetParametersForImport gave,
    # with the importToken it gave for that key.
    def byok(self):
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(),
                            label=None)
        k1 = self.create("EH_AES_GCM_256", ENC, origin="EH_EXTERNAL_KEY")
        k2 = self.create("EH_AES_GCM_256", ENC, origin="EH_EXTERNAL_KEY")
        self.refused("Encrypt with an external key before its import", "Encrypt",
                     {"keyid": k1, "plaintext": b64(b"x")}, 400,
                     "Parameter invalid, this external key has no key material yet "
                     "(ImportKeyMaterial first).")
        self.refused("CreateKey EH_EXTERNAL_KEY of an RSA keyspec", "CreateKey",
                     {"keyspec": "EH_RSA_2048", "origin": "EH_EXTERNAL_KEY", "keyusage": ENC},
                     400, "Parameter invalid, only AES-GCM and SM4 keys can be EH_EXTERNAL_KEY.")
        self.refused("GetParametersForImport with an AES wrapping keyspec",
                     "GetParametersForImport", {"keyid": k1, "keyspec": "EH_AES_GCM_256"}, 400,
                     "Parameter invalid, The keyspec of the wrapping key is EH_RSA_2048, "
                     "EH_RSA_3072 or EH_RSA_4096.")
        self.refused("GetParametersForImport for a key the KMS made", "GetParametersForImport",
                     {"keyid": self.sym_key, "keyspec": "EH_RSA_2048"}, 400,
                     "Parameter invalid, only an EH_EXTERNAL_KEY without key material imports.")
        self.refused("ImportKeyMaterial before GetParametersForImport", "ImportKeyMaterial",
                     {"keyid": k1, "padding_mode": "EH_RSA_PKCS1_OAEP",
                      "key_material": b64(b"x" * 256), "importToken": b64(b"{}")}, 400,
                     "ImportToken failed: not this key's token, or older than 24 hours (send "
                     "GetParametersForImport again).")
        p1 = self.ok("GetParametersForImport", {"keyid": k1, "keyspec": "EH_RSA_2048"})
        p2 = self.ok("GetParametersForImport", {"keyid": k2, "keyspec": "EH_RSA_3072"})
        self.check(set(p1) == {"pubkey", "importToken"}, "GetParametersForImport result fields",
                   p1)
        w1 = serialization.load_pem_public_key(p1["pubkey"].encode())
        w2 = serialization.load_pem_public_key(p2["pubkey"].encode())
        self.check(w1.key_size == 2048 and w2.key_size == 3072,
                   "the wrapping keys are RSA of the keyspecs asked",
                   (w1.key_size, w2.key_size))
        key = os.urandom(32)
        imp = {"keyid": k1, "padding_mode": "EH_RSA_PKCS1_OAEP",
               "key_material": b64(w1.encrypt(key, oaep)), "importToken": p2["importToken"]}
        self.refused("ImportKeyMaterial with another key's importToken", "ImportKeyMaterial",
                     imp, 400, "ImportToken failed: not this key's token, or older than 24 "
                     "hours (send GetParametersForImport again).")
        if SERVER == "ccz":  # ccz's token is base64 JSON {keyid, timestamp, hmac}; eHSM's opaque
            forged = dict(json.loads(unb64(p1["importToken"])), hmac=b64(bytes(32)))
            self.refused("ImportKeyMaterial with this key's token, its MAC forged",
                         "ImportKeyMaterial",
                         dict(imp, importToken=b64(json.dumps(forged).encode())), 400,
                         "ImportToken failed: not this key's token, or older than 24 hours "
                         "(send GetParametersForImport again).")
        imp["importToken"] = p1["importToken"]
        for what, material in (("16 bytes for an AES-256 key", w1.encrypt(key[:16], oaep)),
                               ("wrapped under the other key's wrapping key",
                                w2.encrypt(key, oaep))):
            self.refused("ImportKeyMaterial of " + what, "ImportKeyMaterial",
                         dict(imp, key_material=b64(material)), 400,
                         "ImportKeyMaterial failed: the key material does not decrypt with the "
                         "wrapping key and padding_mode, or is not a key of this keyspec's "
                         "length.")
        r = self.ok("ImportKeyMaterial", imp)
        self.check(r == {"result": True}, "ImportKeyMaterial -> result true", r)
        self.refused("ImportKeyMaterial a second time", "ImportKeyMaterial", imp, 400,
                     "Parameter invalid, this key already has key material.")
        self.refused("GetParametersForImport of a key with material", "GetParametersForImport",
                     {"keyid": k1, "keyspec": "EH_RSA_2048"}, 400,
                     "Parameter invalid, only an EH_EXTERNAL_KEY without key material imports.")
        # the KMS encrypts with the key imported: its ciphertext (ct | iv | tag) opens here,
        # and what is sealed here with the key opens there
        ct = unb64(self.ok("Encrypt", {"keyid": k1, "plaintext": b64(b"imported"),
                                       "aad": b64(b"a")})["ciphertext"])
        plain = AESGCM(key).decrypt(ct[-28:-16], ct[:-28] + ct[-16:], b"a")
        self.check(plain == b"imported", "the KMS's ciphertext decrypts with the key imported",
                   plain)
        iv = os.urandom(12)
        sealed = AESGCM(key).encrypt(iv, b"from here", b"b")
        r = self.ok("Decrypt", {"keyid": k1, "ciphertext": b64(sealed[:-16] + iv + sealed[-16:]),
                                "aad": b64(b"b")})
        self.check(unb64(r["plaintext"]) == b"from here",
                   "a ciphertext made with the key imported decrypts in the KMS", r)

    # Quotes: GenerateQuote for a challenge, VerifyQuote with and without a quote policy, the
    # answer signed with the app's apikey over its canonical string.
    def quotes(self):
        challenge = os.urandom(32)
        r = self.ok("GenerateQuote", {"challenge": b64(challenge)})
        self.check(r.get("challenge") == b64(challenge) and len(unb64(r.get("quote", ""))) > 0,
                   "GenerateQuote echoes the challenge and gives a quote", r)
        quote = r["quote"]
        nonce = b64(os.urandom(16))
        v = self.ok("VerifyQuote", {"quote": quote, "nonce": nonce})
        self.check(v.get("result") == 0 and v.get("nonce") == nonce and
                   re.fullmatch("[0-9a-f]{64}", v.get("mr_enclave", "")) is not None and
                   re.fullmatch("[0-9a-f]{64}", v.get("mr_signer", "")) is not None,
                   "VerifyQuote of the KMS's own quote -> result 0, the nonce, the measurements",
                   v)
        unsigned = {k: x for k, x in v.items() if k != "sign"}
        want = b64(hmac.new(self.c.apikey.encode(), canonical(unsigned).encode(),
                            hashlib.sha256).digest())
        self.check(v.get("sign") == want, "VerifyQuote's sign is HMAC-SHA256(apikey) of the "
                   "result's canonical string", v.get("sign"))
        raw = bytearray(unb64(quote))
        raw[len(raw) // 2] ^= 1
        bad = self.ok("VerifyQuote", {"quote": b64(bytes(raw)), "nonce": nonce})
        self.check(bad.get("result") == 0xA004 and "mr_enclave" not in bad,
                   "VerifyQuote of a quote with a flipped byte -> result 0xA004 (40964)", bad)
        # a policy of the quote's measurements accepts it; one of other measurements does not
        good = self.ok("UploadQuotePolicy", {"mr_enclave": v["mr_enclave"].upper(),
                                             "mr_signer": v["mr_signer"]},
                       message="Upload quote policy success.")["policyId"]
        other = self.ok("UploadQuotePolicy", {"mr_enclave": "cd" * 32, "mr_signer": "cd" * 32},
                        message="Upload quote policy success.")["policyId"]
        self.check(UUID_RE.match(good) is not None and good != other,
                   "UploadQuotePolicy -> two policy ids", (good, other))
        q = self.ok("GetQuotePolicy", {"policyId": good}, message="Query quote policy success.")
        self.check(q.get("policyId") == good and q.get("mr_enclave") == v["mr_enclave"] and
                   q.get("mr_signer") == v["mr_signer"] and isinstance(q.get("createTime"), int),
                   "GetQuotePolicy gives the policy back (measurements in lower case)", q)
        r = self.ok("VerifyQuote", {"quote": quote, "nonce": nonce, "policyId": good})
        self.check(r.get("result") == 0, "VerifyQuote under the quote's own policy", r)
        self.refused("VerifyQuote under a policy of other measurements", "VerifyQuote",
                     {"quote": quote, "nonce": nonce, "policyId": other}, 400,
                     "Verify quote policy failed.")
        self.refused("VerifyQuote under a policy id that is none", "VerifyQuote",
                     {"quote": quote, "nonce": nonce, "policyId": str(uuid.uuid4())}, 400,
                     "Invalid  policyId.")
        if self.c2:
            self.refused("VerifyQuote under another app's policy", "VerifyQuote",
                         {"quote": quote, "nonce": nonce, "policyId": good}, 400,
                         "Invalid  policyId.", client=self.c2)

    def cleanup(self):
        gone = 0
        for c, k in self.created:
            status, body = c.post("DeleteKey", {"keyid": k})
            gone += body.get("code") == 200
        self.check(gone == len(self.created), "DeleteKey of the %d keys this run made" %
                   len(self.created), gone)

    def run(self):
        self.version("start")
        self.step("symmetric keys", self.symmetric)
        self.step("RSA keys", self.rsa)
        self.step("EC keys", self.ecc)
        self.step("SM2 keys", self.sm2)
        if hasattr(self, "sym_key"):
            self.step("key management", self.management)
            self.step("refused requests", self.negatives)
            self.step("another app", self.other_app)
            self.step("imported keys", self.byok)
        self.step("quotes", self.quotes)
        self.step("cleanup", self.cleanup)
        self.version("end")
        print("%d checks, %d failed" % (self.checks, self.failures))
        return 0 if self.failures == 0 and self.checks > 0 else 1


class StepFailed(Exception):
    pass


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("words", nargs="+", help="selftest | URL enroll | URL run-all")
    ap.add_argument("--cacert")
    ap.add_argument("--appid")
    ap.add_argument("--apikey")
    ap.add_argument("--appid2")
    ap.add_argument("--apikey2")
    ap.add_argument("--admin-token", help="Enroll with the admin token (ccz refuses "
                    "unauthenticated enrollment)")
    ap.add_argument("--server", choices=("ccz", "ehsm"), default="ccz",
                    help="whose answers to expect where they differ (default ccz)")
    a = ap.parse_intermixed_args()
    global SERVER
    SERVER = a.server
    if a.words == ["selftest"]:
        return selftest()
    if len(a.words) != 2 or a.words[1] not in ("enroll", "run-all"):
        ap.error("expected: selftest | URL enroll | URL run-all")
    url, cmd = a.words
    if cmd == "enroll":
        c = Client(url, a.cacert)
        if a.admin_token:
            c.session.headers["Authorization"] = "Bearer " + a.admin_token
        status, body = c.get("Enroll")
        r = body.get("result", {})
        if status != 200 or body.get("code") != 200 or body.get("message") != "successful":
            print("FAIL Enroll", status, body)
            return 1
        print(json.dumps({"appid": r.get("appid"), "apikey": r.get("apikey")}))
        return 0
    if not (a.appid and a.apikey):
        ap.error("run-all needs --appid and --apikey")
    c = Client(url, a.cacert, a.appid, a.apikey)
    c2 = Client(url, a.cacert, a.appid2, a.apikey2) if a.appid2 and a.apikey2 else None
    return Run(c, c2).run()


if __name__ == "__main__":
    sys.exit(main())
