# SPDX-License-Identifier: Apache-2.0
"""A real gRPC peer for the RA-gRPC tests: Python's grpcio (Debian's python3-grpcio, gRPC
core over OpenSSL) as a client of a ccz server or as a server for a ccz client. Messages of
ratls.Greeter are encoded by hand (proto3, field 1: string), so no generated code is needed.

  grpc_peer.py client HOST:PORT ROOT_CERT CASE [CLIENT_CERT CLIENT_KEY]
  grpc_peer.py server CERT KEY PORT_FILE [gzip|deflate]
  grpc_peer.py client-insecure HOST:PORT CASE
  grpc_peer.py server-insecure PORT_FILE [gzip|deflate]

The -insecure forms speak plaintext HTTP/2 (grpc.insecure_channel, add_insecure_port).
The client runs one CASE and prints what it saw as JSON (cases gzip and deflate send a
compressible request compressed; case stream calls the server-streaming /test.Stream/Count
with "3"); the server answers SayHello with "Hi NAME from python" (name "fail":
PERMISSION_DENIED; "slow": answers after 2 s), compressing its responses when told to, until
killed."""
import json
import sys
import time

import grpc

PATH = "/ratls.Greeter/SayHello"


def enc(s):
    b = s.encode()
    if len(b) > 127:
        raise ValueError("short strings only")
    return (b"\x0a" + bytes([len(b)]) + b) if b else b""


def dec(b):
    if not b:
        return ""
    if b[0] != 0x0A or b[1] != len(b) - 2:
        raise ValueError("not a HelloReply: %r" % b)
    return b[2:].decode()


COMPRESSION = {"gzip": grpc.Compression.Gzip, "deflate": grpc.Compression.Deflate}


def client(target, root, case, cert=None, key=None):
    if root is None:
        channel = grpc.insecure_channel(target, compression=COMPRESSION.get(case))
    else:
        creds = grpc.ssl_channel_credentials(
            root_certificates=open(root, "rb").read(),
            private_key=open(key, "rb").read() if key else None,
            certificate_chain=open(cert, "rb").read() if cert else None)
        opts = [("grpc.ssl_target_name_override", "localhost")]
        channel = grpc.secure_channel(target, creds, options=opts,
                                      compression=COMPRESSION.get(case))
    out = {}
    with channel as ch:
        def call(path, req, **kw):
            fn = ch.unary_unary(path)
            try:
                resp, c = fn.with_call(req, **kw)
                out.update(code="OK", reply=dec(resp))
            except grpc.RpcError as e:
                c = e
                out.update(code=e.code().name, details=e.details())
            out["initial"] = {k: (v.hex() if isinstance(v, bytes) else v)
                              for k, v in (c.initial_metadata() or ())}
            out["trailing"] = {k: (v.hex() if isinstance(v, bytes) else v)
                               for k, v in (c.trailing_metadata() or ())}

        if case == "hello":
            call(PATH, enc("python"), metadata=[("x-trace", "t-42"), ("x-raw-bin", b"\x00\xff\x10")])
        elif case in ("gzip", "deflate"):
            # grpcio sends a message uncompressed when compressing does not shrink it
            call(PATH, enc("z" * 100), metadata=[("x-raw-bin", b"\x00\xff\x10")])
        elif case == "empty":
            call(PATH, enc(""))
        elif case == "unknown":
            call("/ratls.Greeter/SayGoodbye", enc("x"))
        elif case == "deadline":
            call(PATH, enc("late"), timeout=0.2)
        elif case == "garbage":
            call(PATH, b"\xff\xff\xff")
        elif case == "stream":
            fn = ch.unary_stream("/test.Stream/Count")
            try:
                out.update(replies=[dec(r) for r in fn(enc("3"), timeout=10)], code="OK")
            except grpc.RpcError as e:
                out.update(code=e.code().name, details=e.details())
        elif case == "many":
            # 200 calls, 50 at a time, on one connection
            fn = ch.unary_unary(PATH)
            futs = [fn.future(enc("n%d" % i)) for i in range(200)]
            got = sorted(dec(f.result()) for f in futs)
            out.update(code="OK", n=len(got), first=got[0], ok=got == sorted("Hello n%d" % i for i in range(200)))
        else:
            raise SystemExit("unknown case " + case)
    print(json.dumps(out, sort_keys=True))


def server(cert, key, port_file, compression=None):
    """cert None: plaintext (add_insecure_port)."""
    from concurrent import futures

    def say_hello(req, ctx):
        name = ""
        if req:
            if req[0] != 0x0A or req[1] != len(req) - 2:
                ctx.abort(grpc.StatusCode.INVALID_ARGUMENT, "not a HelloRequest")
            name = req[2:].decode()
        md = dict(ctx.invocation_metadata())
        if name == "fail":
            ctx.abort(grpc.StatusCode.PERMISSION_DENIED, "python says no")
        if name == "slow":
            time.sleep(2)
        ctx.set_trailing_metadata([("x-from", "python"), ("x-echo", md.get("x-trace", "-")),
                                   ("x-from-bin", b"\x00\x01\xfe\xff")])
        return enc("Hi %s from python" % name)

    handler = grpc.method_handlers_generic_handler("ratls.Greeter", {
        "SayHello": grpc.unary_unary_rpc_method_handler(say_hello)})
    srv = grpc.server(futures.ThreadPoolExecutor(max_workers=4),
                      compression=COMPRESSION.get(compression))
    srv.add_generic_rpc_handlers((handler,))
    if cert is None:
        port = srv.add_insecure_port("127.0.0.1:0")
    else:
        creds = grpc.ssl_server_credentials([(open(key, "rb").read(), open(cert, "rb").read())])
        port = srv.add_secure_port("127.0.0.1:0", creds)
    srv.start()
    with open(port_file + ".tmp", "w") as f:
        f.write(str(port))
    import os
    os.rename(port_file + ".tmp", port_file)
    srv.wait_for_termination()


if __name__ == "__main__":
    if sys.argv[1] == "client":
        client(*sys.argv[2:])
    elif sys.argv[1] == "client-insecure":
        client(sys.argv[2], None, *sys.argv[3:])
    elif sys.argv[1] == "server-insecure":
        server(None, None, *sys.argv[2:])
    else:
        server(*sys.argv[2:])
