#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A load driver for crash tests of the KMS: what the KMS acknowledged must survive its death.

  kms_load.py URL --cacert PEM --appid ID --apikey KEY --journal FILE load [--threads N]
  kms_load.py URL --cacert PEM --appid ID --apikey KEY --journal FILE verify

load loops CreateKey (EH_AES_GCM_256) then Encrypt of a random plaintext under that key, in N
threads, until a request fails (the KMS was killed) or the load has run --seconds. It appends
to the journal, flushed and fsync'd before the next request, every acknowledged CreateKey
({"keyid"}) and every acknowledged Encrypt ({"keyid", "plaintext", "ciphertext"}), so the
journal holds only what the KMS answered 200 to. It prints "load: N keys acknowledged, M
ciphertexts acknowledged, stopped by ...".

verify, against the restarted KMS: ListKey lists every journalled keyid, and every journalled
ciphertext Decrypts to its plaintext. It prints "verify: N keys acknowledged, N verified (M
ciphertexts acknowledged, M decrypted)" and exits 0 only when all are there.

Requests are signed by tests/svc/ehsm_client.py (imported, not copied)."""
import argparse
import base64
import importlib.util
import json
import os
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("ehsm_client", os.path.join(HERE, "ehsm_client.py"))
ehsm = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ehsm)

CREATE = {"keyspec": "EH_AES_GCM_256", "origin": "EH_INTERNAL_KEY",
          "keyusage": "EH_KEYUSAGE_ENCRYPT_DECRYPT"}


class Journal:
    def __init__(self, path):
        self.f = open(path, "a", encoding="utf-8")
        self.lock = threading.Lock()
        self.keys = 0
        self.ciphertexts = 0

    def ack(self, entry):
        line = json.dumps(entry, sort_keys=True) + "\n"
        with self.lock:
            self.f.write(line)
            self.f.flush()
            os.fsync(self.f.fileno())
            if "ciphertext" in entry:
                self.ciphertexts += 1
            else:
                self.keys += 1


def worker(args, journal, deadline, stop, why):
    c = ehsm.Client(args.url, args.cacert, args.appid, args.apikey)
    try:
        while not stop.is_set() and time.monotonic() < deadline:
            code, ans = c.post("CreateKey", CREATE)
            if code != 200 or ans.get("code") != 200:
                raise RuntimeError("CreateKey answered %s %s" % (code, ans))
            keyid = ans["result"]["keyid"]
            journal.ack({"keyid": keyid})
            plaintext = ehsm.b64(os.urandom(1 + os.urandom(1)[0] % 64))
            code, ans = c.post("Encrypt", {"keyid": keyid, "plaintext": plaintext})
            if code != 200 or ans.get("code") != 200:
                raise RuntimeError("Encrypt answered %s %s" % (code, ans))
            journal.ack({"keyid": keyid, "plaintext": plaintext,
                         "ciphertext": ans["result"]["ciphertext"]})
    except Exception as e:  # the KMS died under us: the end of the load, not a failure
        with journal.lock:
            if not why:
                why.append("%s: %s" % (type(e).__name__, str(e)[:160]))
    stop.set()


def load(args):
    journal = Journal(args.journal)
    stop = threading.Event()
    why = []
    deadline = time.monotonic() + args.seconds
    threads = [threading.Thread(target=worker, args=(args, journal, deadline, stop, why))
               for _ in range(args.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("load: %d keys acknowledged, %d ciphertexts acknowledged, stopped by %s"
          % (journal.keys, journal.ciphertexts, why[0] if why else "the time limit"))
    return 0


def verify(args):
    keys, entries = [], []
    with open(args.journal, encoding="utf-8") as f:
        for line in f:
            e = json.loads(line)
            (entries if "ciphertext" in e else keys).append(e)
    c = ehsm.Client(args.url, args.cacert, args.appid, args.apikey)
    code, ans = c.post("ListKey")
    if code != 200:
        print("FAIL: ListKey answered %s %s" % (code, ans))
        return 1
    listed = {k["keyid"] for k in ans["result"]["list"]}
    ok = True
    present = 0
    for e in keys:
        if e["keyid"] in listed:
            present += 1
        else:
            ok = False
            print("FAIL: acknowledged key %s is not in ListKey" % e["keyid"])
    decrypted = 0
    for e in entries:
        code, ans = c.post("Decrypt", {"keyid": e["keyid"], "ciphertext": e["ciphertext"]})
        got = ans.get("result", {}).get("plaintext") if code == 200 else None
        if got is not None and base64.b64decode(got) == base64.b64decode(e["plaintext"]):
            decrypted += 1
        else:
            ok = False
            print("FAIL: acknowledged ciphertext under %s: Decrypt answered %s %s"
                  % (e["keyid"], code, ans))
    print("verify: %d keys acknowledged, %d verified (%d ciphertexts acknowledged, %d decrypted)"
          % (len(keys), present, len(entries), decrypted))
    return 0 if ok and len(keys) > 0 else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("url")
    ap.add_argument("--cacert", required=True)
    ap.add_argument("--appid", required=True)
    ap.add_argument("--apikey", required=True)
    ap.add_argument("--journal", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("mode", choices=["load", "verify"])
    args = ap.parse_args()
    return load(args) if args.mode == "load" else verify(args)


if __name__ == "__main__":
    sys.exit(main())
