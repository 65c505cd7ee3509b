# SPDX-License-Identifier: Apache-2.0
"""Attest and verify on the simulated TEE: the claims attested come back verified, policies
accept and reject, report data binds, the verdict is the document `ccz verify --json` prints
(compared key for key with the command), and verify() raises only for unusable arguments."""
import json
import os
import time

import pytest
from conftest import cli_json, no_hint

import ccz

M = bytes(range(32))
ALLOW = {"allow_sim": True, "sgx": [{"mr_enclave": M.hex(), "isv_svn_min": 2}]}


@pytest.fixture(scope="module")
def evidence(plat):
    return ccz.attest(b"\x00\x11\x22\x33", sim_dir=plat, measurement=M, svn=2, product_id=7)


def test_round_trip(plat, evidence):
    assert ccz.detect(evidence) == "sim"
    doc = ccz.verify(evidence, sim_dir=plat, policy=ALLOW, report_data=bytes.fromhex("00112233"))
    assert doc["ok"] is True and doc["verified"] is True
    assert doc["tee"] == "sim" and doc["simulated"] is True
    assert "SIMULATED" in doc["warning"]
    c = doc["claims"]
    assert c["mr_enclave"] == M.hex()
    assert c["isv_svn"] == 2 and c["isv_prod_id"] == 7
    assert c["report_data"] == "00112233" + "00" * 60
    assert doc["policy"] == {"accepted": True, "reasons": []}
    assert "error" not in doc


def test_default_policy_rejects_sim(plat, evidence):
    doc = ccz.verify(evidence, sim_dir=plat)
    assert doc["verified"] is True and doc["ok"] is False
    assert [r["code"] for r in doc["policy"]["reasons"]] == ["simulated_not_allowed"]


def test_policy_forms(plat, evidence):
    for p in (ALLOW, json.dumps(ALLOW), json.dumps(ALLOW).encode(), ccz.Policy(ALLOW)):
        assert ccz.verify(evidence, sim_dir=plat, policy=p)["ok"] is True
    low = {"allow_sim": True, "sgx": [{"isv_svn_min": 3}]}
    doc = ccz.verify(evidence, sim_dir=plat, policy=low)
    assert doc["ok"] is False
    assert doc["policy"]["reasons"][0]["code"] == "measurement_not_accepted"
    assert "isv_svn 2 is below 3" in doc["policy"]["reasons"][0]["message"]
    assert ccz.Policy().to_dict()["allow_sim"] is False


def test_failures_are_verdicts(plat, evidence):
    doc = ccz.verify(evidence, sim_dir=plat, policy=ALLOW, report_data=b"\x01")
    assert doc["verified"] is False and doc["ok"] is False
    assert doc["error"]["code"] == "report_data_mismatch"
    assert doc["error"]["step"] == "report_data"
    assert doc["tee"] is None and doc["claims"] is None and doc["policy"] is None
    bad = bytearray(evidence)
    bad[-1] ^= 1
    assert ccz.verify(bytes(bad), sim_dir=plat)["error"]["code"] == "signature_invalid"
    doc = ccz.verify(b"not evidence at all")
    assert doc["error"]["code"] == "unknown_evidence_format"
    assert doc["error"]["step"] == "detect"
    doc = ccz.verify(evidence[:100], sim_dir=plat)
    assert doc["error"]["step"] == "parse"


def test_verdicts_in_turn_and_in_threads(plat, evidence):
    """verify() keeps an output buffer per thread: a long verdict, a short one (a failure), the
    long one again, and the same from several threads at once give the documents of fresh calls,
    whole and unmixed."""
    import threading
    good = ccz.verify(evidence, sim_dir=plat, policy=ALLOW)
    bad = ccz.verify(b"not evidence at all")
    assert len(json.dumps(good)) > len(json.dumps(bad))
    for _ in range(3):
        assert ccz.verify(evidence, sim_dir=plat, policy=ALLOW) == good
        assert ccz.verify(b"not evidence at all") == bad
    trust, policy, seen = ccz.Trust(sim_dir=plat), ccz.Policy(ALLOW), []

    def work(i):
        for k in range(20):
            if (i + k) % 2:
                seen.append(ccz.verify(evidence, trust=trust, policy=policy) == good)
            else:
                seen.append(ccz.verify(b"not evidence at all") == bad)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == [True] * 80


def test_other_platform_hint(tmp_path, evidence):
    other = str(tmp_path / "other")
    ccz.sim_init(other)
    doc = ccz.verify(evidence, sim_dir=other)
    assert doc["error"]["code"] == "chain_invalid"
    assert doc["error"]["step"] == "platform_certificate"
    assert "sim_dir=" in doc["error"]["hint"]


def test_raises_only_for_unusable_arguments(plat, evidence):
    cases = [
        (dict(collateral=b"{}"), "malformed"),
        (dict(collateral=b"not json"), "malformed"),
        (dict(root_ca=b"not a certificate"), "certificate_malformed"),
        (dict(policy={"no_such_key": 1}), "policy_invalid"),
        (dict(report_data=b"x" * 65), "invalid_argument"),
        (dict(sim_dir="/nonexistent/platform"), "not_found"),
        (dict(vek=b"junk"), "certificate_malformed"),
        (dict(collateral=b"{}", vek=b"x"), "invalid_argument"),
    ]
    for kwargs, name in cases:
        with pytest.raises(ccz.Error) as e:
            ccz.verify(evidence, **kwargs)
        assert e.value.name == name, kwargs
        assert e.value.status == getattr(ccz.Status, name)
    with pytest.raises(TypeError):
        ccz.verify(12345)
    with pytest.raises(TypeError):
        ccz.verify(evidence, report_data="00112233")


def test_hex_evidence(plat, evidence):
    doc = ccz.verify(evidence.hex().encode() + b"\n", sim_dir=plat, policy=ALLOW)
    assert doc["ok"] is True


def test_attester(plat, tmp_path):
    a = ccz.Attester("sim", sim_dir=plat, svn=5, debug=True)
    assert a.tee == "sim"
    ev = a.attest(b"rd")
    doc = ccz.verify(ev, sim_dir=plat, policy={"allow_sim": True, "allow_debug": True})
    assert doc["ok"] and doc["claims"]["debug"] is True and doc["claims"]["isv_svn"] == 5
    # the measurement of this process's executable by default
    exe = os.path.realpath("/proc/self/exe")
    assert doc["claims"]["mr_enclave"] == ccz.sim_measure(exe).hex()
    k1, k2 = a.seal_key("mrenclave"), a.seal_key("mrsigner")
    assert len(k1) == 32 and k1 != k2 and k1 == a.seal_key()
    ev2, certs = a.attest_with_certs(b"")
    assert ccz.detect(ev2) == "sim" and certs == ""
    a.close()
    with pytest.raises(ValueError):
        a.attest(b"")
    with pytest.raises(ccz.Error) as e:
        ccz.Attester("sim", sim_dir=str(tmp_path / "none"))
    assert e.value.category in ("io", "input")
    with pytest.raises(ccz.Error) as e:
        ccz.Attester("nonsense")
    with pytest.raises(ccz.Error) as e:
        ccz.sim_init(plat)
    assert e.value.name == "already_exists"
    assert ccz.sim_default_dir() == os.environ["CCZ_SIM_DIR"]


def test_same_document_as_the_command(cli, plat, evidence, tmp_path):
    ev = tmp_path / "ev.bin"
    ev.write_bytes(evidence)
    pol = tmp_path / "policy.json"
    pol.write_text(json.dumps(ALLOW))
    for extra, kwargs, exit_code in [
        (["--policy", pol, "--report-data", "00112233"], dict(policy=ALLOW,
                                                              report_data=b"\0\x11\x22\x33"), 0),
        ([], {}, 1),
        (["--policy", pol, "--report-data", "ff"], dict(policy=ALLOW, report_data=b"\xff"), 1),
        (["--at", "1000"], dict(at=1000), 1),
    ]:
        code, want = cli_json(cli, "verify", ev, "--sim-dir", plat, *extra)
        assert code == exit_code
        got = no_hint(ccz.verify(evidence, sim_dir=plat, **kwargs))
        assert got == want
        assert list(got) == list(want)  # and in the same order


def test_verdict_in_marshal_format(plat, evidence):
    """verify() reads the verdict in Python's marshal format (ccz_verdict_marshal_to, into this
    thread's memory): the same document as ccz_verdict_json's text for a verdict that verified
    and one that did not, a document longer than the memory makes room for itself, and any JSON
    value comes through exactly (UTF-8 and long strings, 64-bit integers, floats)."""
    import ctypes
    import marshal

    from ccz import _lib
    lib = _lib.lib
    assert ccz.attestation._marshal_to is not None  # this libccz has it

    def dump(fn, *args):
        with _lib.Buf() as b:
            _lib.check(fn(ctypes.byref(b), *args))
            return ctypes.string_at(b.ptr, b.len)

    with ccz.Trust(sim_dir=plat) as trust, ccz.Policy(ALLOW) as pol:
        for ev in (evidence, evidence[:100]):
            o = _lib.VerifyOpts(_lib.VERIFY_OPTS_VERSION, 0, trust.ptr, None, None)
            args = (None, _lib.span(ev), ctypes.byref(o), pol.ptr)
            want = json.loads(dump(lib.ccz_verdict_json, *args))
            assert marshal.loads(dump(lib.ccz_verdict_marshal, *args)) == want
            assert list(ccz.verify(ev, sim_dir=plat, policy=pol, at=0)) == list(want)
            size = len(dump(lib.ccz_verdict_marshal, *args))
            mem, n = ctypes.create_string_buffer(size + 1), ctypes.c_size_t()
            for cap, status in ((size, _lib.Status.too_large), (size + 1, 0)):
                assert lib.ccz_verdict_marshal_to(mem, cap, ctypes.byref(n), ev, len(ev),
                                                  ctypes.byref(o), pol.ptr) == status
                assert n.value == size  # what it takes, or what it wrote
            assert marshal.loads(mem.raw) == want
            small = ccz.attestation._VerdictBuf(64)  # grows to the document's size
            small.opts.at_unix, small.opts.trust = 0, trust.ptr
            assert small.verdict(ev, pol.ptr) == want and small.cap == size + 1
    values = {"ascii": "x" * 300, "utf8": "\u00e9\u2028\U0001f600" * 100, "": "",
              "ints": [0, 1, -1, 2 ** 31 - 1, 2 ** 31, -2 ** 31, -2 ** 31 - 1, 2 ** 63 - 1,
                       -2 ** 63, 2 ** 45 + 12345],
              "floats": [0.5, -1e300, 2.0 ** -1074], "nested": [{"a": [None, True, False]}, []],
              "\u00fcber": {}}
    j = _lib.json_new(values)
    try:
        got = marshal.loads(dump(lib.ccz_json_dump_marshal, j))
    finally:
        lib.ccz_json_free(j)
    assert got == values and list(got) == list(values)
    assert type(got["ints"][-1]) is int and got["ints"][7] == 2 ** 63 - 1


def test_integers_a_c_field_cannot_hold_refused(plat):
    """An int outside its C field's range raises OverflowError naming the field: ctypes would
    keep its low bits, and an svn of -1 would be claimed as 65535, a product id of 65543 as 7,
    an instant 2**64 seconds on as now."""
    cases = [(dict(svn=-1), "svn"), (dict(svn=65536), "svn"),
             (dict(product_id=65543), "product_id"), (dict(timestamp=2**63), "timestamp")]
    for kwargs, field in cases:
        with pytest.raises(OverflowError, match="^%s: %d does not fit a C " % (field, list(
                kwargs.values())[0])):
            ccz.Attester("sim", sim_dir=plat, **kwargs)
    a = ccz.Attester("sim", sim_dir=plat, svn=65535, product_id=0)
    ev = a.attest(b"")
    doc = ccz.verify(ev, sim_dir=plat, policy={"allow_sim": True})
    assert doc["ok"] and doc["claims"]["isv_svn"] == 65535
    now = int(time.time())
    with pytest.raises(OverflowError, match=r"^at_unix: %d does not fit a C " % (
            2**64 + now)):
        ccz.verify(ev, sim_dir=plat, policy={"allow_sim": True}, at=2**64 + now)


def test_strings_with_a_nul_refused(plat, tmp_path):
    """A path or name with a NUL raises ValueError: C would read it only up to the NUL (a
    platform "a\\0b" made in a, an attester of another directory than the one named)."""
    with pytest.raises(ValueError, match="embedded NUL character in"):
        ccz.sim_init(str(tmp_path / "a\0b"))
    assert not (tmp_path / "a").exists()
    with pytest.raises(ValueError, match="embedded NUL character in"):
        ccz.Attester("sim", sim_dir=plat + "\0/other")
    with pytest.raises(ValueError, match="embedded NUL character in"):
        ccz.Attester("sim\0x", sim_dir=plat)


def test_binding_refusals_with_their_messages(plat, evidence):
    """What the binding refuses before libccz sees it, each with the message that says what to
    fix: a measurement of other than 32 bytes (C reads 32), an unknown sealing policy, both
    kinds of collateral or a chain without a VEK, trust anchors given twice, hex evidence of odd
    length; and bytes that are no evidence are detected as nothing."""
    for n in (31, 33):
        with pytest.raises(ccz.Error, match="^invalid_argument: measurement: %d bytes, not 32$"
                           % n):
            ccz.Attester("sim", sim_dir=plat, measurement=b"m" * n)
    with ccz.Attester("sim", sim_dir=plat) as a:
        with pytest.raises(ValueError,
                           match="^policy is 'mrenclave' or 'mrsigner', not 'mrother'$"):
            a.seal_key("mrother")
    assert ccz.detect(b"not evidence") is None
    with pytest.raises(ccz.Error, match="^invalid_argument: collateral: Intel collateral "
                       r"\(SGX/TDX\) or a VEK \(SEV-SNP\), one of them$"):
        ccz.Collateral(b"{}", vek=b"x")
    with pytest.raises(ccz.Error, match="^invalid_argument: cert_chain goes with vek$"):
        ccz.Collateral(b"{}", cert_chain=b"x")
    with ccz.Trust(sim_dir=plat) as t:
        with pytest.raises(ccz.Error, match="^invalid_argument: trust replaces root_ca, "
                           "sim_roots and sim_dir$"):
            ccz.verify(evidence, trust=t, sim_dir=plat)
    with pytest.raises(ccz.Error, match="^invalid_encoding: evidence: hex text of odd length$"):
        ccz.verify(b"abc\n", sim_dir=plat)
    with pytest.raises(ccz.Error) as e:  # the step named once: libccz's detail names it already
        ccz.Policy({"allow_sim": 3})
    assert e.value.detail == "policy: allow_sim: must be true or false"


def test_verify_reentered_keeps_the_outer_calls_memory(plat, evidence):
    """A verify entered while this thread's is running (a finalizer the collector runs inside
    it) uses memory of its own: the outer call's buffer stays marked busy."""
    from ccz import attestation
    ccz.verify(evidence, sim_dir=plat, policy=ALLOW)
    vb = attestation._tls.verdict
    vb.busy = True  # as inside the outer call
    try:
        assert ccz.verify(evidence, sim_dir=plat, policy=ALLOW)["ok"] is True
        assert vb.busy is True
    finally:
        vb.busy = False
