# SPDX-License-Identifier: Apache-2.0
"""Real evidence from ../shared/vectors, read in place: every SGX and TDX quote of
dcap_cases.json and every SEV-SNP report of snp_cases.json gets the verdict the vectors' README
gives (verified or the error code, TCB status, advisories, the SNP fields), the RA-TLS
certificates of Gramine, the Intel SGX SDK and rats-tls are read, the Gramine legacy one
verifies, and each verdict is the document `ccz verify --json` prints for the same files."""
import json

import pytest
from conftest import cli_json, no_hint

import ccz

# every TCB status but Revoked (as tests/tee/test_dcap_vectors.c): only the production checks
# can reject
PRODUCTION = {"accepted_tcb_statuses": [
    "UpToDate", "SWHardeningNeeded", "ConfigurationNeeded", "ConfigurationAndSWHardeningNeeded",
    "OutOfDate", "OutOfDateConfigurationNeeded", "TDRelaunchAdvised",
    "TDRelaunchAdvisedConfigurationNeeded"]}


def dcap_cases(vectors):
    return json.loads((vectors / "dcap_cases.json").read_text())


def test_dcap_cases(vectors):
    cases = dcap_cases(vectors)
    assert len(cases) >= 12
    policy = ccz.Policy(PRODUCTION)
    for tc in cases:
        quote = (vectors / tc["quote"]).read_bytes()  # hex text too: verify() reads it
        doc = ccz.verify(quote, collateral=(vectors / tc["collateral"]).read_bytes(),
                         root_ca=(vectors / tc["root_ca"]).read_bytes(), at=tc["now_unix"],
                         policy=policy)
        want, prod = tc["verify"], tc["production_checks"]
        if want["ok"]:
            assert doc["verified"] is True, (tc["id"], doc.get("error"))
            assert doc["tcb_status"] == want["tcb_status"], tc["id"]
            assert doc["advisories"] == sorted(want["advisories"]), tc["id"]
            assert doc["simulated"] is False and doc["tee"] in ("sgx", "tdx")
            assert doc["ok"] is prod["accept"], tc["id"]
            if not prod["accept"]:
                assert [r["code"] for r in doc["policy"]["reasons"]] == [prod["reason"]]
        else:
            assert doc["verified"] is False, tc["id"]
            assert doc["error"]["code"] == want["error"], tc["id"]
            assert not prod["accept"] and prod["reason"] == want["error"]


def test_snp_cases(vectors):
    cases = json.loads((vectors / "snp_cases.json").read_text())
    assert cases
    with ccz.Collateral(vek=(vectors / cases[0]["vek"]).read_bytes()) as col:
        with pytest.raises(ccz.Error, match="^invalid_argument: a Collateral object replaces vek "
                           "and cert_chain$"):
            ccz.verify((vectors / cases[0]["report"]).read_bytes(), collateral=col,
                       cert_chain=b"x")
    for tc in cases:
        doc = ccz.verify((vectors / tc["report"]).read_bytes(),
                         vek=(vectors / tc["vek"]).read_bytes(), at=tc["now_unix"])
        want = tc["verify"]
        assert want["ok"] and doc["verified"] is True, (tc["id"], doc.get("error"))
        snp = doc["claims"]
        assert doc["tee"] == "snp"
        assert snp["version"] == want["version"] and snp["vmpl"] == want["vmpl"], tc["id"]
        assert snp["policy"] in (want["policy"], int(want["policy"], 16)), tc["id"]
        assert snp["debug"] is want["debug_allowed"], tc["id"]
        assert snp["signing_key"] == want["signing_key"], tc["id"]


def test_ratls_certificates(vectors):
    from ccz import ratls
    for name in ("gramine-cert.pem", "intel-sgxsdk-cert.pem", "rats-tls-cert.pem"):
        doc = ratls.verify_certificate((vectors / "ratls" / name).read_bytes(), at=1700000000)
        assert doc["ratls"]["format"] == "dice", name
        # no collateral given: read and bound, then refused at the collateral step
        assert doc["error"]["code"] == "collateral_missing", (name, doc["error"])
    # Gramine's legacy certificate with a real quote: verifies as case ratls-gramine-sgx-v3
    cert = (vectors / "konvera_gramine-ratls-golang/test/tls/tlscert.pem").read_bytes()
    col = (vectors / "derived/automata_sgx_0825_collateral.json").read_bytes()
    doc = ratls.verify_certificate(cert, collateral=col, at=1755236700,
                                   policy={"allow_outdated_tcb": True})
    assert doc["ok"] is True and doc["ratls"] == {"format": "gramine-legacy"}
    assert doc["tcb_status"] == "OutOfDate" and len(doc["advisories"]) == 6
    assert doc["claims"]["mr_enclave"].startswith("f94ccbe6a504676b")


def test_same_documents_as_the_command(cli, vectors, tmp_path):
    """Each verdict, key for key and in order, is what `ccz verify --json` prints."""
    pol = tmp_path / "production.json"
    pol.write_text(json.dumps(PRODUCTION))
    for i, tc in enumerate(dcap_cases(vectors)):
        args = [vectors / tc["quote"], "--collateral", vectors / tc["collateral"], "--root-ca",
                vectors / tc["root_ca"], "--at", tc["now_unix"]]
        for with_policy in (False, True)[:2 if i < 4 else 1]:  # a policy: the first few
            _, want = cli_json(cli, "verify", *args, *(["--policy", pol] if with_policy else []))
            got = no_hint(ccz.verify((vectors / tc["quote"]).read_bytes(),
                                     collateral=(vectors / tc["collateral"]).read_bytes(),
                                     root_ca=(vectors / tc["root_ca"]).read_bytes(),
                                     at=tc["now_unix"], policy=PRODUCTION if with_policy else None))
            assert got == want and list(got) == list(want), tc["id"]
    for tc in json.loads((vectors / "snp_cases.json").read_text()):
        _, want = cli_json(cli, "verify", vectors / tc["report"], "--vek", vectors / tc["vek"],
                           "--at", tc["now_unix"])
        got = no_hint(ccz.verify((vectors / tc["report"]).read_bytes(),
                                 vek=(vectors / tc["vek"]).read_bytes(), at=tc["now_unix"]))
        assert got == want, tc["id"]
    for cert in ["ratls/gramine-cert.pem", "ratls/rats-tls-cert.pem",
                 "konvera_gramine-ratls-golang/test/tls/tlscert.pem"]:
        for at in (1700000000, 1755236700):
            _, want = cli_json(cli, "verify", vectors / cert, "--at", at)
            got = no_hint(ccz.verify((vectors / cert).read_bytes(), at=at))
            assert got == want, cert
