#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Probes of a running 'ccz kms serve' for tests/cli/test_kms_cli.sh, using the independent
client tests/svc/ehsm_client.py for the envelope:

  kms_probe.py window URL CACERT APPID APIKEY KEYID NOW_MS
      the ±10-minute timestamp window's edges, against a KMS whose clock reads NOW_MS
      (tests/cli/fake_clock.c): 600000 ms away is refused, 599999 ms away accepted
  kms_probe.py at URL CACERT APPID APIKEY NOW_MS ACTION PAYLOAD CODE MESSAGE
      one call signed at NOW_MS (a KMS whose clock reads it), answered CODE and MESSAGE
  kms_probe.py refusals URL CACERT APPID APIKEY
      ccz's refusals that the eHSM client's run-all does not make (the envelope's field types,
      a nonce holding '&', which could carry a seen request's payload under another nonce,
      base64 and key id formats before the signature, keys of a spec, usage or padding the
      action does not take, a plaintext too long for RSA, an external key before its import),
      each answer exact
  kms_probe.py caches URL CACERT APPID APIKEY APPID2 APIKEY2
      the KMS's caches keyed by a hash of the key id: a key id in the slot of another key's
      metadata, and two keys whose material shares a bucket, each still its own key; the quote
      policies' measurements in lower case and an empty policyId as none; DeleteAllKey deleting
      every key of the caller's (cached ones too) and none of another app's
  kms_probe.py flood HOST PORT N SECONDS READY_FILE
      N hostile connections from 127.0.0.2..127.0.0.5 (TCP garbage, TCP silence, TLS then
      garbage, TLS then a request head trickled a byte a second) held SECONDS; READY_FILE is
      written once they are all open; prints how many connected
"""
import json
import os
import socket
import ssl
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "svc"))
import ehsm_client  # noqa: E402


def window(url, cacert, appid, apikey, keyid, now_ms):
    c = ehsm_client.Client(url, cacert, appid, apikey)
    now = int(now_ms)
    pl = {"keyid": keyid, "plaintext": ehsm_client.b64(b"edge")}
    bad = 0
    for off, want in ((-600000, 400), (-599999, 200), (600000, 400), (599999, 200),
                      (-600001, 400), (600001, 400), (0, 200)):
        status, body = c.post("Encrypt", pl, timestamp=str(now + off))
        msg = body.get("message", "")
        ok = status == want and body.get("code") == want and \
            (want == 200 or msg == "Timestamp error")
        print(("ok  " if ok else "FAIL") + f" timestamp now{off:+d}: {status} {msg}")
        bad += not ok
    return 1 if bad else 0


def at(url, cacert, appid, apikey, now_ms, action, payload, code, message):
    c = ehsm_client.Client(url, cacert, appid, apikey)
    status, body = c.post(action, json.loads(payload), timestamp=str(int(now_ms)))
    ok = status == int(code) and body == {"code": int(code), "message": message, "result": {}}
    print(("ok  " if ok else "FAIL") + f" {action} at {now_ms}: {status} {body}")
    return 0 if ok else 1


def refusals(url, cacert, appid, apikey):
    """ccz's own refusals that the eHSM client's run-all does not make: each an exact answer."""
    c = ehsm_client.Client(url, cacert, appid, apikey)
    r = ehsm_client.Run(c, None)
    b64, P = ehsm_client.b64, "Parameter invalid, "
    ENC, SIG = ehsm_client.ENC, ehsm_client.SIG
    NO_MATERIAL = P + "this external key has no key material yet (ImportKeyMaterial first)."
    try:
        aes = r.create("EH_AES_GCM_128", ENC)
        enc = {"keyid": aes, "plaintext": b64(b"x")}
        # the envelope: each field of the wrong kind, before the signature is looked at
        for what, change, message in (
                ("an empty appid", {"appid": ""}, "Missing required parameters"),
                ("an empty sign", {"sign": ""}, "Missing required parameters"),
                ("payload null", {"payload": None}, "Missing required parameters"),
                ("payload an array", {"payload": [enc]}, "param type error"),
                ("appid a number", {"appid": 7}, "param type error"),
                ("nonce a number", {"nonce": 7}, "param type error")):
            body = c.envelope(enc, nonce=None)
            body.update(change)
            r.refused("Encrypt with " + what, "Encrypt", None, 400, message,
                      raw=json.dumps(body))
        r.refused("a body that is a JSON array", "Encrypt", None, 400, "Invalid JSON",
                  raw=json.dumps([c.envelope(enc)]))
        body = c.envelope(enc)
        body["sign"] += "A"
        r.refused("the right sign and one character more", "Encrypt", None, 400, "sign error",
                  raw=json.dumps(body))
        # a request seen once, its payload's text moved into its nonce: the same canonical
        # string, so the same sign, but another nonce, so no replay; and the action is unsigned
        ts = ehsm_client.now_ms()
        seen = c.envelope({"challenge": b64(b"abc")}, nonce="n", timestamp=ts)
        status, _ = c.post_raw("GenerateQuote", json.dumps(seen))
        r.check(status == 200, "GenerateQuote with nonce n", status)
        moved = "n&payload=challenge=" + b64(b"abc")
        r.check(ehsm_client.signature(apikey, appid, ts, None, moved) == seen["sign"],
                "the nonce holding the payload's text signs alike")
        r.refused("ListKey signed as the seen request, its payload in the nonce", "ListKey", None,
                  400, "Nonce format error: a nonce cannot contain '&'",
                  raw=json.dumps({"appid": appid, "timestamp": ts, "nonce": moved,
                                  "sign": seen["sign"]}))
        # payload checks run before the signature: these are refused as payloads, a bad sign
        # beside them
        for what, payload, message in (
                ("plaintext of 3 characters", dict(enc, plaintext="abc"),
                 P + "The plaintext not a vailed base64 string."),
                ("plaintext with a character after '='", dict(enc, plaintext="ab=c"),
                 P + "The plaintext not a vailed base64 string."),
                ("plaintext with three '='", dict(enc, plaintext="a==="),
                 P + "The plaintext not a vailed base64 string."),
                ("keyid without its dashes", dict(enc, keyid=aes.replace("-", "a")),
                 P + "The keyid format wrong."),
                ("aad of 8196 characters", dict(enc, aad=b64(bytes(6145))),
                 P + "The aad length error.")):
            body = c.envelope(payload)
            body["sign"] = "A" * 43 + "="
            r.refused("Encrypt with " + what + " (and a bad sign)", "Encrypt", None, 400,
                      message, raw=json.dumps(body))
        r.ok("Encrypt", dict(enc, aad=b64(bytes(6144))))  # 8192 characters: the most
        r.refused("UploadQuotePolicy of an mr_enclave not hex", "UploadQuotePolicy",
                  {"mr_enclave": "zz" * 32, "mr_signer": "cd" * 32}, 400,
                  P + "The mr_enclave format wrong.")
        # keys of a spec or usage the action does not take
        rsa = r.create("EH_RSA_2048", ENC)
        rsa_sig = r.create("EH_RSA_2048", SIG)
        ec = r.create("EH_EC_P256", ENC)
        for action, payload, message in (
                ("Decrypt", {"keyid": rsa, "ciphertext": b64(bytes(300))},
                 P + "Decrypt is not possible with a EH_RSA_2048 key."),
                ("ReEncrypt", {"keyid": rsa, "ciphertext": b64(bytes(300))},
                 P + "ReEncrypt is not possible with a EH_RSA_2048 key."),
                ("ExportDataKey", {"keyid": rsa, "ukeyid": rsa, "olddatakey_base": b64(b"x")},
                 P + "ExportDataKey is not possible with a EH_RSA_2048 key."),
                ("ExportDataKey", {"keyid": aes, "ukeyid": aes, "olddatakey_base": b64(b"x")},
                 P + "asymmetric encryption is not possible with a EH_AES_GCM_128 key."),
                ("AsymmetricEncrypt", {"keyid": ec, "plaintext": b64(b"x"),
                                       "padding_mode": "EH_PAD_NONE"},
                 P + "asymmetric encryption is not possible with a EH_EC_P256 key."),
                ("GetPublicKey", {"keyid": aes},
                 P + "GetPublicKey (a symmetric key has none) is not possible with a "
                 "EH_AES_GCM_128 key."),
                ("AsymmetricEncrypt", {"keyid": rsa, "plaintext": b64(b"x"),
                                       "padding_mode": "EH_RSA_PKCS1_PSS"},
                 P + "RSA encryption takes EH_RSA_PKCS1 or EH_RSA_PKCS1_OAEP as padding_mode."),
                ("Sign", {"keyid": rsa_sig, "message": b64(b"m"), "message_type": "EH_RAW",
                          "digest_mode": "EH_SHA_256", "padding_mode": "EH_RSA_PKCS1_OAEP"},
                 P + "RSA signatures take EH_RSA_PKCS1 or EH_RSA_PKCS1_PSS as padding_mode.")):
            r.refused(action + " " + json.dumps(payload)[:60], action, payload, 400, message)
        # a key of the wrong usage: a SIGN_VERIFY key neither encrypts nor decrypts, nor takes
        # an exported data key
        for action, payload in (
                ("AsymmetricEncrypt", {"keyid": rsa_sig, "plaintext": b64(b"x"),
                                       "padding_mode": "EH_RSA_PKCS1_OAEP"}),
                ("AsymmetricDecrypt", {"keyid": rsa_sig, "ciphertext": b64(bytes(256)),
                                       "padding_mode": "EH_RSA_PKCS1_OAEP"}),
                ("ExportDataKey", {"keyid": aes, "ukeyid": rsa_sig,
                                   "olddatakey_base": b64(bytes(40))})):
            r.refused(action + " with a SIGN_VERIFY key", action, payload, 400,
                      ehsm_client.USAGE_SIGN)
        # a plaintext one byte over what RSA-2048 with OAEP-SHA-256 takes (256 - 66): the
        # caller's mistake, 400, not a server exception
        r.ok("AsymmetricEncrypt", {"keyid": rsa, "plaintext": b64(bytes(190)),
                                   "padding_mode": "EH_RSA_PKCS1_OAEP"})
        r.refused("AsymmetricEncrypt of 191 bytes", "AsymmetricEncrypt",
                  {"keyid": rsa, "plaintext": b64(bytes(191)), "padding_mode": "EH_RSA_PKCS1_OAEP"},
                  400, P + "The plaintext is too long for this key and padding.")
        # SM2 signs a message, not a digest (its user id enters the hash): an EH_DIGEST message
        # is the caller's mistake, 400, not a server exception
        sm2 = r.create("EH_SM2", SIG)
        for action, extra in (("Sign", {}), ("Verify", {"signature": b64(bytes(72))})):
            r.refused(action + " of an EH_DIGEST with an EH_SM2 key", action,
                      dict({"keyid": sm2, "message": b64(bytes(32)), "message_type": "EH_DIGEST",
                            "digest_mode": "EH_SM3", "padding_mode": "EH_PAD_NONE"}, **extra),
                      400, P + "The message is not a digest of digest_mode's length (or this key "
                      "takes no digest).")
        # an external key before its import: nothing uses it, and RotateKey does not give it
        # material of the KMS's making
        ext = r.create("EH_AES_GCM_256", ENC, origin="EH_EXTERNAL_KEY")
        for action, payload in (("Decrypt", {"keyid": ext, "ciphertext": b64(bytes(40))}),
                                ("GenerateDataKey", {"keyid": ext, "keylen": 16}),
                                ("RotateKey", {"keyid": ext}),
                                ("Encrypt", {"keyid": ext, "plaintext": b64(b"x")})):
            r.refused(action + " of an external key before its import", action, payload, 400,
                      NO_MATERIAL)
    except ehsm_client.StepFailed:
        pass
    except Exception as e:  # a KMS that went away
        r.check(False, "the KMS answered", repr(e))
    for _, k in r.created:
        c.post("DeleteKey", {"keyid": k})
    print("%d checks, %d failed" % (r.checks, r.failures))
    return 1 if r.failures or not r.checks else 0


def fnv(text, basis=1469598103934665603):
    """FNV-1a 64 as the KMS hashes a key id (actions.c: meta_slot_of, key_bucket)."""
    h = basis
    for b in text.encode():
        h = ((h ^ b) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return h


def caches(url, cacert, appid, apikey, appid2, apikey2):
    c = ehsm_client.Client(url, cacert, appid, apikey)
    c2 = ehsm_client.Client(url, cacert, appid2, apikey2)
    r = ehsm_client.Run(c, c2)
    b64, ENC = ehsm_client.b64, ehsm_client.ENC
    DECRYPT_FAILED = "Decryption failed, Please confirm that your parameters are correct."
    try:
        # a key id in the metadata cache's slot (4096, by FNV-1a) of a key just used is no key
        aes = r.create("EH_AES_GCM_128", ENC)
        r.ok("Encrypt", {"keyid": aes, "plaintext": b64(b"x")})
        while True:
            other = str(uuid.uuid4())
            if fnv(other) % 4096 == fnv(aes) % 4096 and other != aes:
                break
        r.refused("Encrypt with a key id in the cached slot of another key", "Encrypt",
                  {"keyid": other, "plaintext": b64(b"x")}, 400, "keyid error")
        # two keys whose version 1 shares a bucket of the material cache (8192, by FNV-1a):
        # a ciphertext of the one does not decrypt with the other
        seen, first = {}, None
        for _ in range(2000):
            k = r.create("EH_AES_GCM_128", ENC)
            first = seen.setdefault(fnv(k, 1469598103934665603 ^ 1) % 8192, k)
            if first != k:
                break
        r.check(first != k, "two keys whose material shares a cache bucket")
        if first != k:
            ct = r.ok("Encrypt", {"keyid": first, "plaintext": b64(b"first's")})["ciphertext"]
            r.refused("Decrypt with a key sharing the cached key's bucket", "Decrypt",
                      {"keyid": k, "ciphertext": ct}, 400, DECRYPT_FAILED)
        # quote policies: mr_signer in lower case like mr_enclave; an empty policyId is none
        pid = r.ok("UploadQuotePolicy", {"mr_enclave": "AB" * 32, "mr_signer": "CD" * 32},
                   message="Upload quote policy success.")["policyId"]
        q = r.ok("GetQuotePolicy", {"policyId": pid}, message="Query quote policy success.")
        r.check(q.get("mr_enclave") == "ab" * 32 and q.get("mr_signer") == "cd" * 32,
                "UploadQuotePolicy keeps both measurements in lower case", q)
        quote = r.ok("GenerateQuote", {"challenge": b64(b"c")})["quote"]
        v = r.ok("VerifyQuote", {"quote": quote, "nonce": b64(b"n"), "policyId": ""})
        r.check(v.get("result") == 0, "VerifyQuote with policyId \"\" appraises without a policy",
                v)
        # DeleteAllKey: every key of the caller's, none of another app's
        theirs = r.create("EH_AES_GCM_128", ENC, client=c2)
        r.ok("Encrypt", {"keyid": aes, "plaintext": b64(b"x")})  # its metadata cached
        r.ok("DeleteAllKey", None, message="successful")
        r.check(r.ok("ListKey", message="successful")["list"] == [],
                "ListKey after DeleteAllKey lists nothing")
        r.refused("Encrypt with a key DeleteAllKey deleted (used just before)", "Encrypt",
                  {"keyid": aes, "plaintext": b64(b"x")}, 400, "keyid error")
        r.ok("Encrypt", {"keyid": theirs, "plaintext": b64(b"x")}, client=c2)
    except ehsm_client.StepFailed:
        pass
    except Exception as e:  # a KMS that went away
        r.check(False, "the KMS answered", repr(e))
    for cl, k in r.created:
        cl.post("DeleteKey", {"keyid": k})
    print("%d checks, %d failed" % (r.checks, r.failures))
    return 1 if r.failures or not r.checks else 0


def hostile(kind, host, port, src, seconds, opened, lock):
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((src, 0))
        s.settimeout(5)
        s.connect((host, port))
        with lock:
            opened[0] += 1
        if kind in (2, 3):
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            s = ctx.wrap_socket(s)
        end = time.time() + seconds
        if kind == 0:
            s.sendall(b"\x16\x03\x01\x02\x00garbage" * 50)
        elif kind == 2:
            s.sendall(b"GARBAGE \x00\xff\r\n\r\n" * 10)
        elif kind == 3:
            s.sendall(b"POST /ehsm?Action=Encrypt HTTP/1.1\r\nHost: x\r\n"
                      b"Content-Type: application/json\r\nContent-Length: 5000\r\n\r\n{")
        while time.time() < end:
            if kind == 3:
                s.sendall(b" ")
            time.sleep(1)
        s.close()
    except OSError:
        pass


def flood(host, port, n, seconds, ready):
    opened, lock, threads = [0], threading.Lock(), []
    for i in range(int(n)):
        src = f"127.0.0.{2 + i % 4}"
        t = threading.Thread(target=hostile, args=(i % 4, host, int(port), src, float(seconds),
                                                   opened, lock), daemon=True)
        t.start()
        threads.append(t)
    # ready once all are open (at most 1.5 s: those still connecting then are not counted)
    deadline = time.time() + 1.5
    while opened[0] < int(n) and time.time() < deadline:
        time.sleep(0.02)
    with open(ready, "w") as f:
        f.write(f"{opened[0]}\n")
    for t in threads:
        t.join()
    print(f"{opened[0]} hostile connections")
    return 0


def main():
    a = sys.argv[1:]
    if a[:1] == ["window"] and len(a) == 7:
        return window(*a[1:])
    if a[:1] == ["at"] and len(a) == 10:
        return at(*a[1:])
    if a[:1] == ["refusals"] and len(a) == 5:
        return refusals(*a[1:])
    if a[:1] == ["caches"] and len(a) == 7:
        return caches(*a[1:])
    if a[:1] == ["flood"] and len(a) == 6:
        return flood(*a[1:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
