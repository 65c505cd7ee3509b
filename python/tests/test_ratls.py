# SPDX-License-Identifier: Apache-2.0
"""RA-TLS from Python: certificates made and verified (bound to their key: a certificate
re-signed by another key is refused), libccz's contexts attesting both ways inside the
handshake, and Python's ssl module attesting a server before any application byte."""
import socket
import ssl
import threading

import pytest

import ccz
from ccz import ratls

POLICY = {"allow_sim": True}


@pytest.fixture(scope="module")
def att(plat):
    return ccz.Attester(sim_dir=plat, svn=2)


def test_certificate(plat, att):
    cert, key = ratls.create_certificate(att, subject_cn="svc", nonce=b"n1")
    assert cert.startswith("-----BEGIN CERTIFICATE-----") and "PRIVATE KEY" in key
    doc = ratls.verify_certificate(cert, sim_dir=plat, policy=POLICY)
    assert doc["ok"] and doc["ratls"] == {"format": "dice"} and doc["claims"]["isv_svn"] == 2
    der = ratls._der(cert)
    assert ccz.verify(der, sim_dir=plat, policy=POLICY)["ok"]
    assert not ratls.verify_certificate(cert, sim_dir=plat)["ok"]  # the default policy
    p384, _ = ratls.create_certificate(att, key="p384")
    assert ratls.verify_certificate(p384, sim_dir=plat, policy=POLICY)["ok"]
    doc = ratls.verify_certificate(cert, sim_dir=plat, policy=POLICY, at=1000)
    assert doc["error"]["code"] == "not_yet_valid" and doc["error"]["step"] == "certificate"


def test_certificate_bound_to_its_key(plat, att):
    """The evidence of one certificate under another key: refused at the binding."""
    pytest.importorskip("cryptography")
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    cert, _ = ratls.create_certificate(att)
    orig = x509.load_pem_x509_certificate(cert.encode())
    k = ec.generate_private_key(ec.SECP256R1())
    b = (x509.CertificateBuilder().subject_name(orig.subject).issuer_name(orig.issuer)
         .public_key(k.public_key()).serial_number(orig.serial_number)
         .not_valid_before(orig.not_valid_before).not_valid_after(orig.not_valid_after))
    for ext in orig.extensions:
        b = b.add_extension(ext.value, ext.critical)
    from cryptography.hazmat.primitives.serialization import Encoding
    forged = b.sign(k, hashes.SHA256()).public_bytes(Encoding.PEM)
    doc = ratls.verify_certificate(forged, sim_dir=plat, policy=POLICY)
    assert doc["error"]["code"] == "binding_mismatch" and doc["error"]["step"] == "binding"


def test_certificate_subject_utf8(plat, att):
    """A subject CN beyond ASCII is stored as UTF-8 and reads back exactly, with OpenSSL's
    command line and with cryptography; a name longer than X.509's 64 characters is refused."""
    import shutil
    import subprocess
    cn = "Z\u00fcrich \u2603 \U0001f512"
    cert, _ = ratls.create_certificate(att, subject_cn=cn)
    if shutil.which("openssl"):
        out = subprocess.run(["openssl", "x509", "-noout", "-subject", "-nameopt", "utf8"],
                             input=cert.encode(), capture_output=True, check=True).stdout
        assert out.decode("utf-8") == "subject=O=ccz, CN=%s\n" % cn
    pytest.importorskip("cryptography")
    from cryptography import x509
    from cryptography.x509.oid import NameOID
    name = x509.load_pem_x509_certificate(cert.encode()).subject
    assert [a.value for a in name.get_attributes_for_oid(NameOID.COMMON_NAME)] == [cn]
    assert ratls.create_certificate(att, subject_cn="\u00e9" * 64)[0]
    with pytest.raises(ccz.Error) as e:
        ratls.create_certificate(att, subject_cn="\u00e9" * 65)
    assert e.value.name == "invalid_argument"
    assert "the certificate's subject CN must be 1 to 64 characters of UTF-8" in e.value.detail


def serve(ls, ctx, n, errors):
    for _ in range(n):
        s, _ = ls.accept()
        try:
            with ctx.accept(s, timeout=10) as c:
                c.sendall(b"echo:" + c.recv())
        except ccz.Error as e:
            errors.append(e)


@pytest.fixture()
def listener():
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen()
    yield ls, ls.getsockname()[1]
    ls.close()


def test_libccz_contexts_two_way(plat, att, listener):
    ls, port = listener
    srv = ratls.Context(server=True, attester=att, policy=POLICY, sim_dir=plat)
    errors = []
    th = threading.Thread(target=serve, args=(ls, srv, 2, errors))
    th.start()
    cli = ratls.Context(attester=att, policy=POLICY, sim_dir=plat)
    with cli.connect(("127.0.0.1", port)) as c:
        c.sendall(b"hello")
        assert c.recv() == b"echo:hello"
        assert c.peer_verdict()["claims"]["isv_svn"] == 2
    # a client whose policy refuses the server: refused inside the handshake
    strict = ratls.Context(attester=att, policy={"allow_sim": True, "sgx": [{"isv_svn_min": 9}]},
                           sim_dir=plat)
    with pytest.raises(ccz.Error) as e:
        strict.connect("127.0.0.1:%d" % port)
    assert e.value.name == "policy_rejected" and "measurement_not_accepted" in e.value.detail
    th.join(10)
    assert len(errors) == 1  # the server saw that handshake fail


def test_connection_bytes_only_and_closed(plat, att, listener):
    """send/sendall take bytes-like data only (bytes(5) would put five zero bytes on the wire),
    and a closed connection refuses to be used instead of handing OpenSSL a freed SSL*."""
    ls, port = listener
    srv = ratls.Context(server=True, attester=att, policy=POLICY, sim_dir=plat)
    th = threading.Thread(target=serve, args=(ls, srv, 1, []), daemon=True)
    th.start()
    cli = ratls.Context(attester=att, policy=POLICY, sim_dir=plat)
    with cli.connect(("127.0.0.1", port)) as c:
        for bad in (5, "hello"):
            with pytest.raises(TypeError):
                c.send(bad)
            with pytest.raises(TypeError):
                c.sendall(bad)
        assert c.send(b"") == 0  # nothing to send: not OpenSSL's error for a write of 0
        with pytest.raises(ValueError, match="^recv: size -1 is negative$"):
            c.recv(-1)
        c.sendall(b"hello")
        assert c.recv(0) == b""  # as a socket's: not OpenSSL's error for a read of 0
        import tracemalloc
        tracemalloc.start()
        try:  # a size beyond SSL_read's C int: not a 2 GiB buffer first, then a refusal
            assert c.recv(2**31) == b"echo:hello"  # nothing but these bytes went
            assert tracemalloc.get_traced_memory()[1] < 1 << 20
        finally:
            tracemalloc.stop()
    th.join(10)
    with pytest.raises(ValueError, match="the connection is closed"):
        c.recv()
    with pytest.raises(ValueError, match="the connection is closed"):
        c.send(b"x")
    c.close()  # twice: nothing more to free


def test_connection_reset_and_cut(plat, att, listener):
    """recv's b"" means the peer's close_notify: a reset connection, and one closed without
    close_notify (an attacker cutting the stream short), raise instead of reading as the end."""
    import struct
    from ccz import _lib
    ls, port = listener
    srv = ratls.Context(server=True, attester=att, policy=POLICY, sim_dir=plat)

    def server(how):
        s, _ = ls.accept()
        conn = srv.accept(s, timeout=10)
        conn.recv()  # the client's request
        if how == "clean":
            conn.close()
            return
        _lib.lib.SSL_free(conn._ssl)  # no close_notify
        conn._ssl = None
        if how == "reset":
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()

    cli = ratls.Context(attester=att, policy=POLICY, sim_dir=plat)
    for how, name, detail in (("clean", None, None),
                              ("reset", "network_error", "Connection reset by peer"),
                              ("cut", "tls_error", "unexpected eof while reading")):
        th = threading.Thread(target=server, args=(how,), daemon=True)
        th.start()
        with cli.connect(("127.0.0.1", port)) as c:
            c.sendall(b"request")
            th.join(10)
            if name is None:
                assert c.recv() == b""
            else:
                with pytest.raises(ccz.Error) as e:
                    c.recv()
                assert e.value.name == name and detail in e.value.detail, e.value


def test_python_ssl_client(plat, att, listener):
    ls, port = listener
    srv = ratls.Context(server=True, mode="server", attester=att, policy=POLICY, sim_dir=plat)
    errors = []
    th = threading.Thread(target=serve, args=(ls, srv, 2, errors))
    th.start()
    ctx = ratls.client_context(policy=POLICY, sim_dir=plat)
    assert isinstance(ctx, ssl.SSLContext)
    with socket.create_connection(("127.0.0.1", port)) as raw:
        with ctx.wrap_socket(raw) as s:
            assert s.ccz_verdict["ok"] and s.ccz_verdict["tee"] == "sim"
            s.sendall(b"py")
            assert s.recv(100) == b"echo:py"
    # the default policy refuses a sim server: before any byte, the socket closed
    ctx = ratls.client_context(sim_dir=plat)
    with socket.create_connection(("127.0.0.1", port)) as raw:
        with pytest.raises(ssl.SSLError) as e:
            ctx.wrap_socket(raw)
    err = e.value
    assert isinstance(err, ratls.AttestationError) and isinstance(err, ccz.Error)
    assert err.name == "policy_rejected" and not err.verdict["ok"]
    assert err.verdict["policy"]["reasons"][0]["code"] == "simulated_not_allowed"
    th.join(10)


def test_python_ssl_server(plat, att, listener):
    ls, port = listener
    sctx = ratls.server_context(attester=att)

    def py_server():
        s, _ = ls.accept()
        with sctx.wrap_socket(s, server_side=True) as t:
            t.sendall(b"from python:" + t.recv(100))

    th = threading.Thread(target=py_server)
    th.start()
    cli = ratls.Context(mode="server", policy=POLICY, sim_dir=plat)
    with cli.connect(("127.0.0.1", port)) as c:
        c.sendall(b"x")
        assert c.recv() == b"from python:x"
    th.join(10)


def test_asyncio_client(plat, att, listener):
    """asyncio's streams use ssl.SSLObject: the same verification before any byte."""
    import asyncio
    ls, port = listener
    srv = ratls.Context(server=True, mode="server", attester=att, policy=POLICY, sim_dir=plat)
    th = threading.Thread(target=serve, args=(ls, srv, 2, []))
    th.start()

    async def talk(policy):
        ctx = ratls.client_context(policy=policy, sim_dir=plat)
        reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=ctx,
                                                       server_hostname="")
        verdict = writer.get_extra_info("ssl_object").ccz_verdict
        writer.write(b"aio")
        await writer.drain()
        data = await reader.read(100)
        writer.close()
        return verdict, data

    verdict, data = asyncio.run(talk(POLICY))
    assert data == b"echo:aio" and verdict["ok"]
    with pytest.raises(ssl.SSLError) as e:
        asyncio.run(talk(None))
    assert isinstance(e.value, ratls.AttestationError) and e.value.name == "policy_rejected"
    th.join(10)


def test_context_refuses_closed_borrowed_objects(plat, att):
    """The C context borrows the trust anchors, policy and collateral it was made with: once
    the caller closes one, connecting raises instead of verifying the peer with freed memory
    (the attester is used only to make the context's certificate: closing it is harmless)."""
    trust = ccz.Trust(sim_dir=plat)
    pol = ccz.Policy(POLICY)
    a = ccz.Attester(sim_dir=plat)
    ctx = ratls.Context(attester=a, policy=pol, trust=trust)
    a.close()
    assert ctx.ptr
    pol.close()
    with pytest.raises(ValueError, match="Policy is closed"):
        ctx.connect("127.0.0.1:1", timeout=0.5)
    ctx2 = ratls.Context(attester=att, trust=trust, policy=POLICY)
    trust.close()
    with pytest.raises(ValueError, match="Trust is closed"):
        ctx2.connect("127.0.0.1:1", timeout=0.5)
    ctx.close()
    ctx2.close()


def test_integers_and_strings_c_cannot_hold_refused(plat, att):
    """A validity or cache size outside its C field raises OverflowError (ctypes would keep the
    low bits: a cache of -1 would be 4294967295 entries); a name or address with a NUL,
    ValueError (C would read only what precedes it)."""
    with pytest.raises(OverflowError, match="^not_after: %d does not fit a C " % 2**63):
        ratls.create_certificate(att, not_after=2**63)
    with pytest.raises(OverflowError, match="^cache_size: -1 does not fit a C uint "):
        ratls.Context(attester=att, sim_dir=plat, cache_size=-1)
    with pytest.raises(ValueError, match="embedded NUL character in"):
        ratls.create_certificate(att, subject_cn="svc\0evil")
    with ratls.Context(attester=att, sim_dir=plat, policy=POLICY) as ctx:
        with pytest.raises(ValueError, match="embedded NUL character in"):
            ctx.connect("127.0.0.1:1\0x", timeout=0.5)


def test_certificate_options(plat, att):
    """The nonce goes into the certificate; an unknown key type or mode is refused naming the
    choices."""
    nonce = b"ccz-python-nonce-0123456789"
    cert, key = ratls.create_certificate(att, nonce=nonce)
    assert nonce in ratls._der(cert)
    ratls.Context(cert=cert, key=key, sim_dir=plat).close()  # a PEM pair of its own
    assert nonce not in ratls._der(ratls.create_certificate(att)[0])
    with pytest.raises(ValueError, match="^key is 'p256' or 'p384', not 'p521'$"):
        ratls.create_certificate(att, key="p521")
    with pytest.raises(ValueError,
                       match="^mode is one of two-way, server, client, not 'one-way'$"):
        ratls.Context(mode="one-way", attester=att, sim_dir=plat)
