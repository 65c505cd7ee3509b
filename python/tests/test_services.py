# SPDX-License-Identifier: Apache-2.0
"""The clients against ccz's services run in this process (ccz.services): attestation tokens
(nonce, evidence, an EAR token verified offline against the JWKS; expired, another key's JWKS,
a reused nonce), secret provisioning (only the client the policy names gets its secret),
Trustee's KBS protocol, and the KMS (enroll attested, CreateKey, Encrypt, Decrypt)."""
import base64
import json
import ssl
import time
import urllib.request

import pytest

import ccz
from ccz import kbs, kms, secret, services, tokens

M = bytes([0x5A] * 32)


@pytest.fixture(scope="module")
def svc(plat, tmp_path_factory):
    d = tmp_path_factory.mktemp("att")
    pol = d / "policy.json"
    pol.write_text(json.dumps({"allow_sim": True, "secrets": [
        {"secret": "app", "tee": "sim", "mr_enclave": M.hex()}]}))
    (d / "app.txt").write_bytes(b"the app secret")
    with services.Service("attestation", listen="127.0.0.1:0", data_dir=str(d / "state"),
                          sim_dir=plat, policy=str(pol),
                          secret=["app=%s" % (d / "app.txt")]) as s:
        s.state = d / "state"
        yield s


def test_tokens(plat, svc):
    c = tokens.Client(svc.url, cacert=str(svc.state / "tls-cert.pem"))
    nonce = c.nonce()
    ev = ccz.attest(tokens.report_data_for(nonce, b"rt"), sim_dir=plat, measurement=M)
    token = c.attest(ev, nonce=nonce, runtime_data=b"rt")
    jwks = c.jwks()
    claims = tokens.verify(token, jwks)
    sub = claims["submods"]["sim"]
    assert sub["ear.status"] == "warning" and sub["ccz.simulated"] is True
    assert sub["ear.veraison.annotated-evidence"]["mr_enclave"] == M.hex()
    assert claims["eat_profile"] == "tag:github.com,2023:veraison/ear"
    assert tokens.verify(token.encode(), json.dumps(jwks))["jti"] == claims["jti"]
    assert tokens.verify(token + "\n", jwks)["jti"] == claims["jti"]  # as read from a file
    with pytest.raises(ccz.Error) as e:
        tokens.verify(token, jwks, at=int(time.time()) + 3600)
    assert e.value.name == "expired"
    other = {"keys": [dict(jwks["keys"][0], x=jwks["keys"][0]["y"])]}
    with pytest.raises(ccz.Error) as e:
        tokens.verify(token, other)
    assert e.value.category in ("verification", "input")
    with pytest.raises(ccz.Error) as e:
        tokens.verify("a.b.c", jwks)
    assert e.value.category == "input"
    with pytest.raises(ccz.Error) as e:  # what follows a NUL is not left unchecked
        tokens.verify(token + "\0anything", jwks)
    assert e.value.name == "malformed" and "a NUL byte at offset %d" % len(token) in e.value.detail
    with pytest.raises(ccz.Error) as e:  # a nonce is single use
        c.attest(ev, nonce=nonce, runtime_data=b"rt")
    assert e.value.name == "policy_rejected" and "401" in e.value.detail
    with pytest.raises(ccz.Error) as e:  # evidence not bound to the nonce
        c.attest(ccz.attest(b"other", sim_dir=plat), nonce=c.nonce())
    assert e.value.name == "report_data_mismatch"


def test_secret_provisioning(plat, svc):
    ca = str(svc.state / "tls-cert.pem")
    addr = "127.0.0.1:%d" % svc.port
    got = secret.get(addr, attester=ccz.Attester(sim_dir=plat, measurement=M), ca_file=ca)
    assert got == b"the app secret"
    with pytest.raises(ccz.Error) as e:  # another measurement: no secret for it
        secret.get(addr, attester=ccz.Attester(sim_dir=plat), ca_file=ca, timeout=5)
    assert e.value.name == "unavailable"
    with pytest.raises(ccz.Error) as e:  # the server's certificate is not RA-TLS: refused
        secret.get(addr, attester=ccz.Attester(sim_dir=plat, measurement=M), sim_dir=plat,
                   policy={"allow_sim": True}, timeout=5)
    assert e.value.name == "not_found" and "no RA-TLS evidence extension" in e.value.detail


def test_kbs(plat, svc):
    admin = (svc.state / "admin-token").read_text().strip()
    ctx = ssl.create_default_context(cafile=str(svc.state / "tls-cert.pem"))
    req = urllib.request.Request(svc.url + "/kbs/v0/resource/default/key/one",
                                 data=b"resource bytes", method="POST",
                                 headers={"Authorization": "Bearer " + admin})
    assert urllib.request.urlopen(req, context=ctx).status in (200, 201)
    data, token = kbs.get_resource(svc.url, "default/key/one",
                                   ccz.Attester(sim_dir=plat, measurement=M),
                                   cacert=str(svc.state / "tls-cert.pem"))
    assert data == b"resource bytes" and token.count(".") == 2
    with pytest.raises(ccz.Error) as e:
        kbs.get_resource(svc.url, "default/key/none", ccz.Attester(sim_dir=plat),
                         cacert=str(svc.state / "tls-cert.pem"))
    assert e.value.name == "not_found"


def test_kms(plat, tmp_path):
    pol = tmp_path / "policy.json"
    pol.write_text('{"allow_sim": true}')
    with services.Service("kms", listen="127.0.0.1:0", data_dir=str(tmp_path / "kms"),
                          tee="sim", sim_dir=plat, policy=str(pol)) as k:
        url = "127.0.0.1:%d" % k.port
        c = kms.Client(url, sim_dir=plat, policy={"allow_sim": True},
                       attester=ccz.Attester(sim_dir=plat))
        appid, apikey = c.enroll()
        assert len(appid) == 36 and len(apikey) == 32
        r = c.call("CreateKey", {"keyspec": "EH_AES_GCM_256", "origin": "EH_INTERNAL_KEY",
                                 "keyusage": "EH_KEYUSAGE_ENCRYPT_DECRYPT"})
        assert r["code"] == 200
        keyid = r["result"]["keyid"]
        b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731
        ct = c.call("Encrypt", {"keyid": keyid, "plaintext": b64(b"model key"),
                                "aad": b64(b"v1")})["result"]["ciphertext"]
        pt = c.call("Decrypt", {"keyid": keyid, "ciphertext": ct, "aad": b64(b"v1")})
        assert base64.b64decode(pt["result"]["plaintext"]) == b"model key"
        assert c.call("Decrypt", {"keyid": keyid, "ciphertext": ct})["code"] == 400
        # the same app from its credentials; a wrong apikey is refused by the KMS
        again = kms.Client(url, sim_dir=plat, policy={"allow_sim": True}, appid=appid,
                           apikey=apikey)
        ct2 = again.call("Encrypt", {"keyid": keyid, "plaintext": b64(b"y")})["result"]
        assert base64.b64decode(c.call("Decrypt", {"keyid": keyid, "ciphertext": ct2[
            "ciphertext"]})["result"]["plaintext"]) == b"y"
        bad = kms.Client(url, sim_dir=plat, policy={"allow_sim": True}, appid=appid,
                         apikey="0" * 32)
        assert bad.call("Encrypt", {"keyid": keyid, "plaintext": b64(b"x")})["code"] != 200
        # the KMS's own evidence is appraised: the default policy refuses sim
        with pytest.raises(ccz.Error) as e:
            kms.Client(url, sim_dir=plat, attester=ccz.Attester(sim_dir=plat)).enroll()
        assert e.value.name == "policy_rejected"
        with pytest.raises(ccz.Error):
            kms.Client(url, sim_dir=plat).call("CreateKey", {})  # no app


def test_service_stopped(plat, tmp_path):
    """A stopped service's port and url raise instead of reading the freed C service."""
    s = services.Service("kms", listen="127.0.0.1:0", data_dir=str(tmp_path / "kms"),
                         tee="sim", sim_dir=plat)
    assert s.port > 0
    s.stop()
    with pytest.raises(ValueError, match="stopped"):
        s.port
    with pytest.raises(ValueError, match="stopped"):
        s.url
    s.stop()  # twice: nothing more to free


def test_kms_client_refuses_closed_borrowed_objects(plat):
    """A kms.Client passes its attester, trust anchors, policy and collateral to libccz on each
    call: one closed by the caller since raises instead of being read after it was freed."""
    trust = ccz.Trust(sim_dir=plat)
    a = ccz.Attester(sim_dir=plat)
    c = kms.Client("127.0.0.1:1", trust=trust, attester=a, timeout=0.5)
    a.close()
    with pytest.raises(ValueError, match="Attester is closed"):
        c.enroll()
    c2 = kms.Client("127.0.0.1:1", trust=trust, appid="a" * 36, apikey="k" * 32, timeout=0.5)
    trust.close()
    with pytest.raises(ValueError, match="Trust is closed"):
        c2.call("CreateKey", {})


class _FakeResponse:
    def __init__(self, status, body):
        self.status, self._body = status, body

    def read(self):
        return self._body


def test_token_client_refusal_with_unknown_reason(monkeypatch):
    """A refusal's reason names a ccz status only when it is one: any other text from the
    server (an attribute of the Status class, say) gives the status of the HTTP code, a
    ccz.Error, not a TypeError."""
    answers = []

    class Conn:
        def __init__(self, *args, **kw):
            pass

        def request(self, *args, **kw):
            pass

        def getresponse(self):
            return answers.pop(0)

        def close(self):
            pass

    monkeypatch.setattr(tokens.http.client, "HTTPSConnection", Conn)
    c = tokens.Client("https://127.0.0.1:1")
    for reason, status, name in (("mro", 400, "protocol_error"), ("_missing_", 403,
                                                                 "policy_rejected"),
                                 ("signature_invalid", 400, "signature_invalid"),
                                 ("__class__", 404, "not_found")):
        answers.append(_FakeResponse(status, json.dumps(
            {"error": {"reason": reason, "message": "no"}}).encode()))
        with pytest.raises(ccz.Error) as e:
            c.nonce()
        assert e.value.name == name and "answered %d: no" % status in e.value.detail


def test_timeouts_in_milliseconds():
    """A timeout below a millisecond is one millisecond, not libccz's default of 0 (30 s); one
    of 0, below it or NaN is refused before any connection."""
    from ccz import _lib, kms
    assert _lib.timeout_ms(0.0001) == 1 and _lib.timeout_ms(1.5) == 1500
    assert kms.Client("https://127.0.0.1:1", timeout=0.0001)._o.timeout_ms == 1
    for bad in (0, -1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="a timeout is a number of seconds above 0"):
            kms.Client("https://127.0.0.1:1", timeout=bad)


def test_service_stop_grace_out_of_range(plat, tmp_path):
    """A grace C's unsigned cannot hold is refused before anything stops (-1 would be a grace
    of 49 days); the service then still runs and stops. (An option False is left out: the
    flag's default.)"""
    s = services.Service("kms", listen="127.0.0.1:0", data_dir=str(tmp_path / "kms"),
                         tee="sim", sim_dir=plat, pkcs1_decrypt=False)
    assert s.config["pkcs1-decrypt"] is False
    for bad in (-1, 2**32):
        with pytest.raises(ValueError, match="^grace_ms is 0 to 4294967295, not %d$" % bad):
            s.stop(bad)
        assert s.port > 0
    s.stop(0)
    with pytest.raises(ValueError, match="stopped"):
        s.port


def test_c_strings_with_a_nul_and_huge_timeouts_refused(plat):
    """Names, addresses and URLs with a NUL raise ValueError before any connection (C would
    read only what precedes it); a timeout of more milliseconds than a C long holds,
    OverflowError."""
    with pytest.raises(ValueError, match="embedded NUL character in"):
        services.Service("kms\0x", listen="127.0.0.1:0")
    c = kms.Client("127.0.0.1:1", sim_dir=plat, appid="a" * 36, apikey="k" * 32, timeout=0.5)
    with pytest.raises(ValueError, match="embedded NUL character in"):
        c.call("CreateKey\0Decrypt", {})
    a = ccz.Attester(sim_dir=plat)
    with pytest.raises(ValueError, match="embedded NUL character in"):
        kbs.get_resource("https://127.0.0.1:1\0x", "default/key/app", a, timeout=0.5)
    with pytest.raises(ValueError, match="embedded NUL character in"):
        secret.get("127.0.0.1:1\0x", attester=a, sim_dir=plat, timeout=0.5)
    a.close()
    with pytest.raises(ccz.Error, match="^invalid_argument: no app: enroll"):
        kms.Client("127.0.0.1:1", sim_dir=plat, appid="a" * 36, timeout=0.5).call("CreateKey")
    with pytest.raises(ccz.Error, match="^invalid_argument: url: https://HOST:PORT, not "
                       "'http://127.0.0.1:1'$"):
        tokens.Client("http://127.0.0.1:1")
    with pytest.raises(OverflowError, match=r"^timeout_ms: \d+ does not fit a C long "):
        kms.Client("127.0.0.1:1", sim_dir=plat, timeout=1e20)
