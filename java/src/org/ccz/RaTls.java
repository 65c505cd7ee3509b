// SPDX-License-Identifier: Apache-2.0
package org.ccz;

import java.nio.charset.StandardCharsets;

/**
 * RA-TLS certificates: a self-signed certificate whose extension carries evidence binding its
 * key, so a peer that verifies it knows the key lives in an attested TEE. Use the PEM pair with
 * any TLS stack (javax.net.ssl through a KeyStore, Netty, ...), and verify a peer's certificate
 * with verifyCertificate before sending it anything.
 */
public final class RaTls {
    private RaTls() {}

    /** A certificate (PEM) and its private key (PKCS#8 PEM). */
    public static final class Certificate {
        private final String certificatePem;
        private final String privateKeyPem;

        Certificate(byte[] cert, byte[] key) {
            this.certificatePem = new String(cert, StandardCharsets.US_ASCII);
            this.privateKeyPem = new String(key, StandardCharsets.US_ASCII);
        }

        public String certificatePem() {
            return certificatePem;
        }

        public String privateKeyPem() {
            return privateKeyPem;
        }
    }

    /** A fresh key (P-256) and a certificate with the attester's evidence. */
    public static Certificate createCertificate(Attester attester, String subjectCn) {
        byte[][] pair = attester.use(p -> Native.ratlsCertCreate(p, subjectCn, false));
        return new Certificate(pair[0], pair[1]);
    }

    /**
     * Verifies a peer's RA-TLS certificate (PEM or DER; Gramine's, Intel SGX SDK's, DICE's
     * formats): validity, self-signature, the binding of its key to the evidence, then the
     * evidence and the policy of o.
     */
    public static Verdict verifyCertificate(byte[] certificate, VerifyOptions o) {
        return Verifier.verify(certificate, o);
    }

    public static Verdict verifyCertificate(String pem, VerifyOptions o) {
        return verifyCertificate(pem.getBytes(StandardCharsets.US_ASCII), o);
    }
}
