#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Probes of a running 'ccz kms serve' for tests/cli/test_kms_cli.sh, using the independent
client tests/svc/ehsm_client.py for the envelope:

  kms_probe.py window URL CACERT APPID APIKEY KEYID NOW_MS
      the ±10-minute timestamp window's edges, against a KMS whose clock reads NOW_MS
      (tests/cli/fake_clock.c): 600000 ms away is refused, 599999 ms away accepted
  kms_probe.py at URL CACERT APPID APIKEY NOW_MS ACTION PAYLOAD CODE MESSAGE
      one call signed at NOW_MS (a KMS whose clock reads it), answered CODE and MESSAGE
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
    time.sleep(1.5)
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
    if a[:1] == ["flood"] and len(a) == 6:
        return flood(*a[1:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
