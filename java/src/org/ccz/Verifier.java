// SPDX-License-Identifier: Apache-2.0
package org.ccz;

/**
 * Verifies evidence (an SGX or TDX quote, an SEV-SNP report, sim evidence, ...) or an RA-TLS
 * certificate (PEM or DER), and appraises its claims with a policy. The verdict is a value, not
 * an exception: evidence that does not verify gives a Verdict whose ok() is false and whose
 * error says why; only unusable options (a policy or collateral that does not parse) throw.
 */
public final class Verifier {
    private Verifier() {}

    public static Verdict verify(byte[] evidence, VerifyOptions o) {
        if (evidence == null) {
            throw new IllegalArgumentException("evidence: null");
        }
        if (o == null) {
            o = new VerifyOptions();
        }
        boolean[] ok = new boolean[1];
        long at = o.at != null ? o.at : System.currentTimeMillis() / 1000;
        String json = Native.verify(evidence, o.collateral, o.rootCa,
                o.simRoots.toArray(new byte[0][]), o.simDir, at, o.policy, o.reportData, ok);
        return new Verdict(json, ok[0]);
    }

    public static Verdict verify(byte[] evidence) {
        return verify(evidence, null);
    }
}
