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


if __name__ == "__main__":
    if sys.argv[1] == "session":
        session(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5:])
    else:
        hostile(sys.argv[2], sys.argv[3])
