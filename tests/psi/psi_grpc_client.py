#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A stock gRPC client of CCZoo's psi.PSI (Debian's python3-grpcio), its messages encoded by
hand from psi.proto (field numbers and wire types), nothing generated from ccz.

  psi_grpc_client.py session TARGET ROOT_CERT PARTIES DATA1 [DATA2 ...]
      one whole session: a party per data file (a channel each, its own subchannel pool, as
      separate processes would have), the first the chief; prints a JSON object per party
  psi_grpc_client.py hostile TARGET ROOT_CERT
      against a server of 2-party sessions: malformed and out-of-order calls, then a session
      that must still work; prints a JSON list of [case, code, details]
  psi_grpc_client.py lifecycle TARGET ROOT_CERT SERVER_LOG
      against a fresh server of 3-party sessions with a 3 s timeout: parties that leave (a call's
      deadline passes) before and after the session starts, a party that never uploads, parties
      that never fetch the result; prints a JSON list of [case, code, details]
"""
import json
import os
import sys
import threading

import grpc

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from pbwire import decode, field_bytes, field_varint  # noqa: E402


def ra_request(name):
    return field_bytes(1, name.encode())


def connect_request(name, chief, num):
    return field_bytes(1, name.encode()) + (field_varint(2, 1) if chief else b"") + \
        field_varint(3, num)


def upload_request(items):
    return b"".join(field_bytes(1, x) for x in items)


def calpsi_request(name, chief=False):
    return field_bytes(1, name.encode()) + (field_varint(2, 1) if chief else b"")


def channel(target, root):
    creds = grpc.ssl_channel_credentials(root_certificates=open(root, "rb").read())
    return grpc.secure_channel(target, creds, options=[
        ("grpc.ssl_target_name_override", "localhost"),
        ("grpc.use_local_subchannel_pool", 1),  # a party is its connection
        ("grpc.max_receive_message_length", 64 << 20),
        ("grpc.max_send_message_length", 64 << 20)])


def call(ch, method, body, metadata=None, timeout=30, wait_for_ready=None):
    fn = ch.unary_unary("/psi.PSI/" + method)
    try:
        resp, c = fn.with_call(body, metadata=metadata, timeout=timeout,
                               wait_for_ready=wait_for_ready)
        return "OK", resp, dict(c.trailing_metadata() or ())
    except grpc.RpcError as e:
        return e.code().name, e.details(), dict(e.trailing_metadata() or ())


def message(resp):
    return decode(resp).get(1, [b""])[0].decode()


def party(target, root, parties, name, path, chief, out):
    items = [line.rstrip(b"\r\n") for line in open(path, "rb")]
    items = [x for x in items if x]
    r = {"name": name}
    with channel(target, root) as ch:
        # the channel's first call: a connection attempt that fails under load is tried again
        # within the call's timeout instead of failing the party at once
        code, resp, _ = call(ch, "RemoteAttestation", ra_request(name), wait_for_ready=True)
        r["ra"] = [code, message(resp) if code == "OK" else resp]
        code, resp, _ = call(ch, "Connect", connect_request(name, chief, parties))
        r["connect"] = [code, message(resp) if code == "OK" else resp]
        code, resp, _ = call(ch, "DataUpload", upload_request(items))
        r["upload"] = [code, message(resp) if code == "OK" else resp]
        code, resp, tr = call(ch, "CalPsi", calpsi_request(name, chief))
        r["calpsi"] = code
        r["results"] = [x.decode() for x in decode(resp).get(1, [])] if code == "OK" else resp
        r["parties"] = tr.get("ccz-psi-parties", "")
    out.append(r)


def session(target, root, parties, files):
    out, threads = [], []
    for i, path in enumerate(files):
        t = threading.Thread(target=party, args=(target, root, parties, "provider%d" % (i + 1),
                                                 path, i == 0, out))
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
    print(json.dumps(sorted(out, key=lambda r: r["name"])))


def hostile(target, root):
    log = []

    def note(case, code, details):
        log.append([case, code, details if isinstance(details, str) else message(details)])

    a, b, c = channel(target, root), channel(target, root), channel(target, root)
    code, d, _ = call(a, "Connect", connect_request("alice", True, 5))
    note("client_num", code, d)
    code, d, _ = call(a, "DataUpload", upload_request([b"x"]))
    note("upload before connect", code, d)
    code, d, _ = call(a, "CalPsi", calpsi_request("alice"))
    note("calpsi before connect", code, d)
    code, d, _ = call(a, "Connect", field_varint(1, 7))  # client_name as a varint: wrong type
    note("wrong wire type", code, d)
    code, d, _ = call(a, "Connect", connect_request("", False, 2))
    note("empty name", code, d)
    code, d, _ = call(a, "Connect", connect_request("eve\nccz psi: forged", False, 2))
    note("control characters", code, d)
    code, d, _ = call(a, "Connect", connect_request("n" * 129, False, 5))  # not to wait if taken
    note("name of 129 bytes", code, d)
    code, d, _ = call(a, "Connect", connect_request("n" * 128, False, 5))  # the name passes
    note("name of 128 bytes", code, d)
    code, d, _ = call(a, "Connect", field_bytes(1, b"caf\xe9") + field_varint(3, 5))
    note("name not utf-8", code, d)
    code, d, _ = call(a, "DataUpload", upload_request([b"y" * (5 << 20)]))
    note("oversized message", code, d)
    code, d, _ = call(a, "NoSuchMethod", b"")
    note("unknown method", code, d)

    # both connect (each Connect waits for the other)
    res = {}
    ta = threading.Thread(target=lambda: res.__setitem__("a", call(a, "Connect",
                                                                   connect_request("alice", True, 2))))
    ta.start()
    # a second party with alice's name is refused while alice waits
    import time
    time.sleep(0.5)
    code, d, _ = call(c, "Connect", connect_request("alice", False, 2))
    note("duplicate name", code, d)
    res["b"] = call(b, "Connect", connect_request("bob", False, 0))
    ta.join()
    note("connect alice", res["a"][0], res["a"][1])
    note("connect bob", res["b"][0], res["b"][1])
    code, d, _ = call(c, "Connect", connect_request("carol", False, 2))
    note("session under way", code, d)
    code, d, _ = call(a, "Connect", connect_request("alice", True, 2))
    note("connect twice", code, d)
    code, d, _ = call(b, "CalPsi", calpsi_request("bob"))
    note("non-chief calpsi early", code, d)
    code, d, _ = call(b, "DataUpload", upload_request([b"z" * 5000]))
    note("item too long", code, d)
    code, d, _ = call(b, "DataUpload", upload_request([b"ok", b"\xff\xfe"]))
    note("not utf-8", code, d)
    code, d, _ = call(b, "CalPsi", calpsi_request("alice"))
    note("another's name", code, d)
    # chunks: alice sends two, the first marked as not the last
    code, d, _ = call(a, "DataUpload", upload_request([b"apple", b"pear", b"apple"]),
                      metadata=[("ccz-psi-more", "1")])
    note("chunk", code, d)
    res = {}
    ta = threading.Thread(target=lambda: res.__setitem__("a", call(a, "DataUpload",
                                                                   upload_request([b"fig", b"kiwi"]))))
    ta.start()
    res["b"] = call(b, "DataUpload", upload_request([b"kiwi", b"apple", b"plum", b"kiwi"]))
    ta.join()
    note("upload alice", res["a"][0], res["a"][1])
    note("upload bob", res["b"][0], res["b"][1])
    code, d, _ = call(b, "DataUpload", upload_request([b"late"]))
    note("upload twice", code, d)
    for name, ch in (("alice", a), ("bob", b)):
        code, d, _ = call(ch, "CalPsi", calpsi_request(name))
        log.append(["result " + name, code,
                    [x.decode() for x in decode(d).get(1, [])] if code == "OK" else d])
    for ch in (a, b, c):
        ch.close()
    print(json.dumps(log))


def lifecycle(target, root, server_log):
    import time
    log = []
    res = {}

    def note(case, r):
        code, d = r[0], r[1]
        log.append([case, code, message(d) if code == "OK" and isinstance(d, bytes) else d])

    def bg(key, ch, method, body, timeout=30):
        t = threading.Thread(target=lambda: res.__setitem__(key, call(ch, method, body,
                                                                      timeout=timeout)))
        t.start()
        return t

    def connect_all(chs, names):
        ts = [bg(n, ch, "Connect", connect_request(n, i == 0, 3))
              for i, (ch, n) in enumerate(zip(chs, names))]
        for t in ts:
            t.join()
        for n in names:
            note("connect " + n, res[n])

    # session 1: its only party gives up (her call's deadline passes); the session goes
    solo = channel(target, root)
    r = call(solo, "Connect", connect_request("solo", True, 3), timeout=0.5)
    log.append(["solo leaves", r[0]])
    solo.close()
    for _ in range(300):  # the server's log says so within 200 ms
        if "session 1: every party left" in open(server_log, errors="replace").read():
            break
        time.sleep(0.05)
    # session 2, before it starts: carol waits; alice gives up and her seat is free again, for
    # another alice (refused as a duplicate until the server has seen her go: it looks every
    # 200 ms)
    carol, alice, alice2, dave = (channel(target, root) for _ in range(4))
    tc = bg("carol", carol, "Connect", connect_request("carol", True, 3))
    time.sleep(0.3)
    r = call(alice, "Connect", connect_request("alice", False, 3), timeout=0.6)
    log.append(["alice leaves while connecting", r[0]])
    refused = 0
    while True:
        ta = bg("alice", alice2, "Connect", connect_request("alice", False, 3))
        ta.join(0.5)
        if ta.is_alive() or res["alice"][0] != "ALREADY_EXISTS" or refused == 100:
            break  # joined (she waits for a third party), or another answer
        refused += 1
        time.sleep(0.1)
    log.append(["alice again waits", ta.is_alive(), refused < 100])
    note("connect dave", call(dave, "Connect", connect_request("dave", False, 3)))
    tc.join()
    ta.join()
    note("connect carol", res["carol"])
    note("connect alice again", res["alice"])
    # ... and once it is under way: alice waits for the others' uploads, carol gives up on
    # hers; the session ends for everyone
    ta = bg("up alice", alice2, "DataUpload", upload_request([b"x"]))
    time.sleep(0.3)
    r = call(carol, "DataUpload", upload_request([b"x"]), timeout=0.6)
    log.append(["carol leaves while uploading", r[0]])
    ta.join()
    note("upload alice", res["up alice"])
    note("upload dave afterwards", call(dave, "DataUpload", upload_request([b"x"])))
    for ch in (carol, alice, alice2, dave):
        ch.close()

    # session 2: x and y upload, z never does
    chs = [channel(target, root) for _ in range(3)]
    connect_all(chs, ["x", "y", "z"])
    tx = bg("up x", chs[0], "DataUpload", upload_request([b"a", b"b"]))
    ty = bg("up y", chs[1], "DataUpload", upload_request([b"b"]))
    tx.join()
    ty.join()
    note("upload x, z silent", res["up x"])
    note("upload y, z silent", res["up y"])
    note("z uploads late", call(chs[2], "DataUpload", upload_request([b"b"])))
    for ch in chs:
        ch.close()

    # session 3: everyone uploads, only the chief fetches the result
    chs = [channel(target, root) for _ in range(3)]
    connect_all(chs, ["p", "q", "r"])
    ts = [bg("up " + n, ch, "DataUpload", upload_request([b"a", b"b", n.encode()]))
          for ch, n in zip(chs, "pqr")]
    for t in ts:
        t.join()
    note("upload p", res["up p"])
    code, d, _ = call(chs[0], "CalPsi", calpsi_request("p", True))
    log.append(["result p", code, [x.decode() for x in decode(d).get(1, [])] if code == "OK"
                else d])
    time.sleep(4)
    note("q fetches late", call(chs[1], "CalPsi", calpsi_request("q")))
    for ch in chs:
        ch.close()

    # and the server goes on
    chs = [channel(target, root) for _ in range(3)]
    connect_all(chs, ["u", "v", "w"])
    for ch in chs:
        ch.close()
    print(json.dumps(log))


if __name__ == "__main__":
    if sys.argv[1] == "session":
        session(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5:])
    elif sys.argv[1] == "lifecycle":
        lifecycle(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        hostile(sys.argv[2], sys.argv[3])
