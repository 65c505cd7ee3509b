// SPDX-License-Identifier: Apache-2.0
package org.ccz;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The Java binding's tests, run with plain `java` (CTest's java/binding): sim attestation and
 * verification, the recorded SGX and TDX quotes of $CCZ_VECTORS against `ccz verify --json`
 * ($CCZ) with the same inputs, RA-TLS certificates, Paillier against an independent
 * computation in java.math.BigInteger, and errors as CczException with ccz's status. Exit: 0
 * passed, 1 a check failed.
 */
public final class CczTest {
    private static int checks;
    private static final List<String> failures = new ArrayList<>();

    private static void check(boolean cond, String what) {
        checks++;
        if (!cond) {
            failures.add(what);
            System.out.println("FAIL " + what);
        }
    }

    private static void eq(Object got, Object want, String what) {
        check(Objects.equals(got, want), what + ": got " + got + ", want " + want);
    }

    private static <T extends Throwable> T throwsOf(Class<T> cls, Runnable r, String what) {
        try {
            r.run();
        } catch (Throwable t) {
            if (cls.isInstance(t)) {
                checks++;
                return cls.cast(t);
            }
            check(false, what + ": threw " + t);
            return null;
        }
        check(false, what + ": did not throw " + cls.getSimpleName());
        return null;
    }

    public static void main(String[] args) throws Exception {
        Path work = Files.createTempDirectory("ccz-java-");
        try {
            sim(work);
            ratls(work);
            paillier();
            paillierRanges();
            closeDuringUse(work);
            errors();
            strings(work);
            options(work);
            passedOn(work);
            vectors();
            json();
        } finally {
            deleteTree(work);
        }
        System.out.println(checks + " checks, " + failures.size() + " failed");
        System.exit(failures.isEmpty() ? 0 : 1);
    }

    static void jsonRefused(String text, String message) {
        IllegalArgumentException e = throwsOf(IllegalArgumentException.class,
                () -> Json.parse(text), "JSON " + text);
        if (e != null) {
            eq(e.getMessage(), message, "JSON refusal of " + text);
        }
    }

    /** The JSON reader of verdicts: every value and escape, and each refusal with its place. */
    static void json() {
        Map<?, ?> m = (Map<?, ?>) Json.parse(" {\"a\" :[1, -2, 2.5, true, false, null, {}, []]\t,\r\n"
                + "\"s\": \"q\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\u20AC\"} ");
        eq(m.get("a"), Arrays.asList(1L, -2L, 2.5, true, false, null, new java.util.HashMap<>(),
                new ArrayList<>()), "JSON values");
        eq(m.get("s"), "q\"\\/\b\f\n\r\t\u00e9\u20ac", "JSON escapes");
        String deep = "[".repeat(65) + "]".repeat(65);
        check(Json.parse(deep) instanceof List, "JSON nested 65 deep");
        jsonRefused("[" + deep + "]", "JSON: nested too deep at 65");
        jsonRefused("[1] x", "JSON: trailing data at 4");
        jsonRefused("{\"a\" 1}", "JSON: ':' expected at 5");
        jsonRefused("{\"a\":1]", "JSON: '}' expected at 6");
        jsonRefused("[1 2]", "JSON: ']' expected at 3");
        jsonRefused("\"a\u001f\"", "JSON: control character in a string at 3");
        jsonRefused("\"\\u12\"", "JSON: short \\u escape at 3");
        jsonRefused("\"\\u+041\"", "JSON: bad \\u escape at 3");
        jsonRefused("\"\\u-001\"", "JSON: bad \\u escape at 3");
        jsonRefused("\"\\uFF\u0660\u0661\"", "JSON: bad \\u escape at 5");
        jsonRefused("tru", "JSON: true expected at 0");
        jsonRefused("-", "JSON: value expected at 1");
        jsonRefused("+1", "JSON: value expected at 0");
        jsonRefused(".5", "JSON: value expected at 0");
        jsonRefused("-.5", "JSON: value expected at 1");
        jsonRefused("01", "JSON: trailing data at 1");
        jsonRefused("[-01]", "JSON: ']' expected at 3");
        jsonRefused("1.", "JSON: digit expected after '.' at 2");
        jsonRefused("1.e5", "JSON: digit expected after '.' at 2");
        jsonRefused("1e", "JSON: digit expected in the exponent at 2");
        jsonRefused("1e+", "JSON: digit expected in the exponent at 3");
        jsonRefused("1e5.0", "JSON: trailing data at 3");
        jsonRefused("[1-2]", "JSON: ']' expected at 2");
        jsonRefused("9223372036854775808", "JSON: bad number 9223372036854775808 at 19");
        eq(Json.parse("[0, -0, 0.5, -0.0e0, 1E+2, 2e-1, 9223372036854775807, -9223372036854775808]"),
                Arrays.asList(0L, 0L, 0.5, -0.0, 100.0, 0.2, Long.MAX_VALUE, Long.MIN_VALUE),
                "JSON numbers");
        jsonRefused("\"\\x\"", "JSON: bad escape at 3");
        System.out.println("ok   JSON: values, escapes, depth, refusals");
    }

    static void sim(Path work) {
        String plat = work.resolve("plat").toString();
        Sim.init(plat, false);
        byte[] rd = "java report data".getBytes(StandardCharsets.UTF_8);
        byte[] evidence;
        try (Attester a = new Attester(new Attester.Options().simDir(plat).svn(3).productId(7))) {
            eq(a.tee(), "sim", "attester tee");
            evidence = a.attest(rd);
        }
        String policy = "{\"allow_sim\": true, \"sgx\": [{\"isv_svn_min\": 3, \"isv_prod_id\": 7}]}";
        Verdict v = Verifier.verify(evidence, new VerifyOptions().simDir(plat).policy(policy)
                .reportData(rd));
        check(v.ok(), "sim evidence accepted: " + v);
        check(v.verified(), "sim evidence verified");
        eq(v.tee(), "sim", "verdict tee");
        eq(v.claims().get("isv_svn"), 3L, "claims isv_svn");
        eq(v.document().get("simulated"), Boolean.TRUE, "simulated flag");

        v = Verifier.verify(evidence, new VerifyOptions().simDir(plat));
        check(v.verified() && !v.ok(), "the default policy refuses sim evidence: " + v);

        v = Verifier.verify(evidence, new VerifyOptions().simDir(plat).policy(policy)
                .reportData("other".getBytes(StandardCharsets.UTF_8)));
        check(!v.ok() && !v.verified(), "other report data: not verified: " + v);
        check(v.errorCode() != null, "other report data: an error code");

        String strict = "{\"allow_sim\": true, \"sgx\": [{\"isv_svn_min\": 4}]}";
        v = Verifier.verify(evidence, new VerifyOptions().simDir(plat).policy(strict));
        check(v.verified() && !v.ok(), "svn below the policy's minimum: refused");

        byte[] bad = evidence.clone();
        bad[bad.length - 10] ^= 1;
        v = Verifier.verify(bad, new VerifyOptions().simDir(plat).policy(policy));
        check(!v.verified(), "a flipped byte: not verified");

        v = Verifier.verify(evidence, new VerifyOptions().policy(policy));
        check(!v.verified(), "sim evidence without its platform's root: not verified");

        byte[] m = Sim.measure("/bin/sh");
        eq(m.length, 32, "sim measure length");
        System.out.println("ok   sim: attest, verify, policy, report data, tampering");
    }

    static void ratls(Path work) {
        String plat = work.resolve("plat").toString();
        String policy = "{\"allow_sim\": true}";
        RaTls.Certificate c;
        try (Attester a = Attester.sim(plat)) {
            c = RaTls.createCertificate(a, "java.example");
        }
        check(c.certificatePem().startsWith("-----BEGIN CERTIFICATE-----"), "certificate PEM");
        check(c.privateKeyPem().contains("PRIVATE KEY-----"), "key PEM");
        Verdict v = RaTls.verifyCertificate(c.certificatePem(),
                new VerifyOptions().simDir(plat).policy(policy));
        check(v.ok(), "RA-TLS certificate accepted: " + v);
        @SuppressWarnings("unchecked")
        Map<String, Object> r = (Map<String, Object>) v.document().get("ratls");
        check(r != null && "dice".equals(r.get("format")), "RA-TLS format dice: " + r);

        // a subject name beyond ASCII (and beyond the BMP) reads back as given
        String cn = "Z\u00fcrich \u2603 \ud83d\udd12";
        try (Attester a = Attester.sim(plat)) {
            RaTls.Certificate u = RaTls.createCertificate(a, cn);
            java.security.cert.X509Certificate x = (java.security.cert.X509Certificate)
                    java.security.cert.CertificateFactory.getInstance("X.509").generateCertificate(
                            new java.io.ByteArrayInputStream(
                                    u.certificatePem().getBytes(StandardCharsets.US_ASCII)));
            eq(x.getSubjectX500Principal().getName(), "CN=" + cn + ",O=ccz", "a non-ASCII subject CN");
        } catch (java.security.cert.CertificateException e) {
            check(false, "a non-ASCII subject CN: " + e);
        }

        // another platform's root: the certificate's evidence is not trusted
        String other = work.resolve("other").toString();
        Sim.init(other, false);
        v = RaTls.verifyCertificate(c.certificatePem(),
                new VerifyOptions().simDir(other).policy(policy));
        check(!v.ok() && !v.verified(), "a certificate from another platform: refused");

        // a certificate whose signature no longer matches
        byte[] der = java.util.Base64.getMimeDecoder().decode(c.certificatePem()
                .replace("-----BEGIN CERTIFICATE-----", "").replace("-----END CERTIFICATE-----", ""));
        der[der.length - 5] ^= 0x40;
        v = RaTls.verifyCertificate(der, new VerifyOptions().simDir(plat).policy(policy));
        check(!v.ok() && !v.verified(), "a tampered certificate: refused: " + v.errorCode());
        System.out.println("ok   RA-TLS: create, verify, another platform, tampering");
    }

    static void paillier() {
        Paillier.KeyPair kp = Paillier.generatePaillierKeypair(1024);
        Paillier.PublicKey pk = kp.publicKey;
        Paillier.PrivateKey sk = kp.privateKey;
        eq(pk.n.bitLength(), 1024, "n's length");
        eq(sk.decrypt(pk.encrypt(42)), BigInteger.valueOf(42), "decrypt(encrypt(42))");
        eq(sk.decrypt(pk.encrypt(-7)), BigInteger.valueOf(-7), "decrypt(encrypt(-7))");
        eq(sk.decrypt(pk.encrypt(0)), BigInteger.ZERO, "decrypt(encrypt(0))");
        Paillier.EncryptedNumber a = pk.encrypt(1234567), b = pk.encrypt(-234567);
        eq(sk.decrypt(a.add(b)), BigInteger.valueOf(1000000), "a + b");
        eq(sk.decrypt(a.add(10)), BigInteger.valueOf(1234577), "a + 10");
        eq(sk.decrypt(a.multiply(-3)), BigInteger.valueOf(-3703701), "a * -3");
        eq(sk.decrypt(a.subtract(b)), BigInteger.valueOf(1469134), "a - b");
        eq(sk.decrypt(pk.encrypt(pk.maxInt)), pk.maxInt, "maxInt round trip");
        check(!pk.encrypt(5).ciphertext().equals(pk.encrypt(5).ciphertext()),
                "two encryptions of 5 differ");
        Paillier.EncryptedNumber s = a.add(b);
        BigInteger before = s.ciphertext(false);
        check(!s.ciphertext(true).equals(before), "be_secure rerandomizes an operation's result");
        eq(sk.decrypt(s), BigInteger.valueOf(1000000), "after rerandomizing");

        // independent: python-paillier's ciphertext (1 + n)^m r^n mod n^2, made here
        SecureRandom rnd = new SecureRandom();
        BigInteger n = pk.n, n2 = pk.nsquare;
        BigInteger m = new BigInteger(200, rnd);
        BigInteger rr = new BigInteger(n.bitLength() - 1, rnd).add(BigInteger.ONE);
        BigInteger c = pk.g.modPow(m, n2).multiply(rr.modPow(n, n2)).mod(n2);
        eq(sk.decrypt(new Paillier.EncryptedNumber(pk, c)), m, "decrypt an independent ciphertext");
        // and ours decrypts independently: L(c^lambda mod n^2) * mu mod n needs p and q, which
        // stay native; instead check the homomorphism against BigInteger: E(x)*E(y) = E(x+y)
        BigInteger cx = pk.encrypt(11).ciphertext(), cy = pk.encrypt(31).ciphertext();
        eq(sk.decrypt(new Paillier.EncryptedNumber(pk, cx.multiply(cy).mod(n2))),
                BigInteger.valueOf(42), "E(11) * E(31) mod n^2 (BigInteger) decrypts to 42");

        throwsOf(ArithmeticException.class, () -> pk.encrypt(pk.maxInt.add(BigInteger.ONE)),
                "encrypting maxInt + 1");
        throwsOf(ArithmeticException.class,
                () -> sk.decrypt(pk.rawEncrypt(n.divide(BigInteger.TWO))), "decrypting an overflow");
        Paillier.KeyPair other = Paillier.generatePaillierKeypair(512);
        throwsOf(IllegalArgumentException.class, () -> a.add(other.publicKey.encrypt(1)),
                "adding numbers of two keys");
        other.privateKey.close();
        sk.close();
        throwsOf(IllegalStateException.class, () -> sk.decrypt(a), "decrypting with a closed key");
        System.out.println("ok   Paillier: signed integers, homomorphism, independent ciphertexts");
    }

    static void message(Throwable e, String want, String what) {
        if (e != null) {
            eq(e.getMessage(), want, what + ": message");
        }
    }

    /**
     * Paillier's bounds, each refusal with its exception and message, and results against
     * BigInteger done here: maxInt = n / 3 - 1 at both ends, raw plaintexts and ciphertexts at
     * their bounds, |k| < n, the key a number is under, be_secure's one rerandomization, and
     * libccz's own refusals with their step.
     */
    static void paillierRanges() {
        try (Paillier.PrivateKey big = Paillier.generatePaillierKeypair().privateKey) {
            eq(big.publicKey.n.bitLength(), 2048, "python-paillier's default: n of 2048 bits");
        }
        Paillier.KeyPair kp = Paillier.generatePaillierKeypair(512);
        Paillier.PublicKey pk = kp.publicKey;
        Paillier.PrivateKey sk = kp.privateKey;
        BigInteger n = pk.n, n2 = n.multiply(n);
        BigInteger max = n.divide(BigInteger.valueOf(3)).subtract(BigInteger.ONE);
        eq(pk.maxInt, max, "maxInt = n / 3 - 1");
        eq(pk.nsquare, n2, "nsquare");
        eq(sk.decrypt(pk.encrypt(max.negate())), max.negate(), "-maxInt round trip");
        message(throwsOf(ArithmeticException.class, () -> pk.encrypt(max.negate().subtract(BigInteger.ONE)),
                "encrypting -maxInt - 1"), "integer out of range: |value| > maxInt", "encrypting -maxInt - 1");
        eq(sk.decrypt(pk.rawEncrypt(n.subtract(max))), max.negate(), "raw n - maxInt decrypts to -maxInt");
        for (BigInteger over : new BigInteger[] {max.add(BigInteger.ONE),
                n.subtract(max).subtract(BigInteger.ONE)}) {
            message(throwsOf(ArithmeticException.class, () -> sk.decrypt(pk.rawEncrypt(over)),
                    "decrypting raw " + over), "overflow: the result is outside [-maxInt, maxInt]",
                    "decrypting raw " + over);
        }
        BigInteger last = n.subtract(BigInteger.ONE);
        eq(sk.rawDecrypt(pk.rawEncrypt(last)), last, "raw n - 1 round trip");
        eq(sk.decrypt(pk.rawEncrypt(last)), BigInteger.ONE.negate(), "raw n - 1 is -1");
        for (BigInteger raw : new BigInteger[] {BigInteger.ONE.negate(), n}) {
            message(throwsOf(ArithmeticException.class, () -> pk.rawEncrypt(raw), "raw plaintext " + raw),
                    "raw plaintext outside [0, n)", "raw plaintext " + raw);
        }
        // known answers: with r = 1 the ciphertext of m is (1 + n)^m = 1 + m n mod n^2
        BigInteger m = new BigInteger("123456789012345678901234567890");
        eq(sk.decrypt(new Paillier.EncryptedNumber(pk, BigInteger.ONE.add(m.multiply(n)).mod(n2))), m,
                "decrypt 1 + m n");
        eq(sk.decrypt(new Paillier.EncryptedNumber(pk, BigInteger.ONE)), BigInteger.ZERO, "decrypt 1");
        for (BigInteger c : new BigInteger[] {BigInteger.ZERO, BigInteger.ONE.negate(), n2}) {
            message(throwsOf(IllegalArgumentException.class, () -> new Paillier.EncryptedNumber(pk, c),
                    "ciphertext " + c), "ciphertext outside [1, n^2)", "ciphertext " + c);
        }
        Paillier.EncryptedNumber shared = new Paillier.EncryptedNumber(pk, n);
        refused(() -> sk.decrypt(shared), "invalid_argument", "decrypt: the ciphertext shares a factor "
                + "with n (gcd(c, n) is not 1): not a Paillier ciphertext", "decrypting n");
        refused(() -> shared.multiply(-1), "invalid_argument",
                "paillier: the ciphertext is not invertible modulo n^2", "inverting n");
        Paillier.EncryptedNumber five = pk.encrypt(5);
        eq(sk.decrypt(five.multiply(last)), BigInteger.valueOf(-5), "5 * (n - 1) = -5 mod n");
        eq(sk.decrypt(five.multiply(last.negate())), BigInteger.valueOf(5), "5 * -(n - 1) = 5 mod n");
        for (BigInteger k : new BigInteger[] {n, n.negate()}) {
            message(throwsOf(ArithmeticException.class, () -> five.multiply(k), "multiplying by " + k),
                    "|k| >= n", "multiplying by " + k);
        }
        eq(sk.decrypt(pk.encrypt(100).add(-5)), BigInteger.valueOf(95), "100 + -5");
        message(throwsOf(ArithmeticException.class, () -> five.add(max.add(BigInteger.ONE)), "adding maxInt + 1"),
                "integer out of range: |value| > maxInt", "adding maxInt + 1");
        // be_secure: an encryption is sent as it is, an operation's result rerandomized once
        eq(five.ciphertext(), five.ciphertext(false), "an encryption is not rerandomized");
        Paillier.EncryptedNumber sum = five.add(five);
        BigInteger raw = sum.ciphertext(false);
        eq(sk.decrypt(sum), BigInteger.TEN, "5 + 5");
        eq(sum.ciphertext(false), raw, "decrypting leaves the ciphertext as it is");
        BigInteger sent = sum.ciphertext();
        check(!sent.equals(raw), "ciphertext() rerandomizes an operation's result");
        eq(sum.ciphertext(), sent, "rerandomized once");
        eq(sk.decrypt(sum), BigInteger.TEN, "5 + 5 rerandomized");
        // keys: n given by hand, another key's numbers, libccz's refusals
        try (Paillier.PublicKey same = new Paillier.PublicKey(n)) {
            eq(same, pk, "a public key of the same n");
            eq(sk.decrypt(same.encrypt(77)), BigInteger.valueOf(77), "encrypted under the same n");
        }
        for (BigInteger bad : new BigInteger[] {n.negate(), BigInteger.ZERO}) {
            message(throwsOf(IllegalArgumentException.class, () -> new Paillier.PublicKey(bad), "n = " + bad),
                    "n: positive", "n = " + bad);
        }
        refused(() -> new Paillier.PublicKey(BigInteger.valueOf(15)), "invalid_argument",
                "public key: a Paillier modulus is odd and of 512 to 8192 bits (this one: 4 bits)",
                "n = 15");
        refused(() -> Paillier.generatePaillierKeypair(8), "invalid_argument", "generate_paillier_keypair: "
                + "key size 8: use 2048, 3072 or 4096 bits (512 to 8192, a multiple of 16)",
                "a key of 8 bits");
        Paillier.KeyPair other = Paillier.generatePaillierKeypair(512);
        message(throwsOf(IllegalArgumentException.class, () -> sk.rawDecrypt(other.publicKey.encrypt(1)),
                "decrypting another key's number"), "encrypted under another public key", "decrypting another key's number");
        other.privateKey.close();
        refused(() -> pk.use(p -> Native.paillierOp(p, 5, new byte[] {1}, 1, null)), "invalid_argument",
                "argument: unknown Paillier operation", "Paillier operation 5");
        refused(() -> pk.use(p -> Native.paillierOp(p, 0, null, 1, null)), "invalid_argument",
                "argument: a null number", "a null plaintext");
        refused(() -> Native.paillierPubNew(null), "invalid_argument", "argument: a null number", "a null n");
        sk.close();
        message(throwsOf(IllegalStateException.class, () -> five.add(five), "a closed key"), "key closed",
                "a closed key");
        System.out.println("ok   Paillier: bounds, refusals, known answers, be_secure");
    }

    /**
     * A close from another thread while a native call runs frees nothing under it: the object
     * is freed, once, when the call returns, and later calls are refused.
     */
    static void closeDuringUse(Path work) {
        int[] frees = {0};
        NativeRef ref = new NativeRef(42, "thing") {
            @Override
            void free(long ptr) {
                eq(ptr, 42L, "the pointer freed");
                frees[0]++;
            }
        };
        long seen = ref.use(p -> {
            ref.run(); // closed meanwhile
            eq(frees[0], 0, "freed under a call using it");
            return p;
        });
        eq(seen, 42L, "the pointer a call used");
        eq(frees[0], 1, "freed when the last call returned");
        ref.run();
        eq(frees[0], 1, "freed once");
        throwsOf(IllegalStateException.class, () -> ref.use(p -> p), "a call after close");
        String plat = work.resolve("plat").toString();
        Attester a = new Attester(new Attester.Options().simDir(plat));
        String tee = a.use(p -> {
            a.close();
            return Native.attesterTee(p);
        });
        eq(tee, "sim", "an attester closed during a call");
        throwsOf(IllegalStateException.class, () -> a.tee(), "an attester used after close");
        Paillier.KeyPair kp = Paillier.generatePaillierKeypair(512);
        Paillier.EncryptedNumber x = kp.publicKey.encrypt(7);
        kp.privateKey.close();
        throwsOf(IllegalStateException.class, () -> kp.publicKey.encrypt(1),
                "a public key closed with its private key");
        throwsOf(IllegalStateException.class, () -> x.add(x).ciphertext(),
                "an operation of a closed key");
        System.out.println("ok   close during use: freed once, after the call");
    }

    static void errors() {
        CczException e = throwsOf(CczException.class,
                () -> Verifier.verify(new byte[] {1, 2, 3}, new VerifyOptions().policy("{\"allow_sim\": 3}")),
                "a policy that does not parse");
        if (e != null) {
            eq(e.status(), -20, "the status of a policy that does not parse");
            eq(e.name(), "policy_invalid", "the status's name");
            // the step once, not "policy: policy: ..."
            eq(e.getMessage(), "policy: allow_sim: must be true or false", "the message");
            System.out.println("ok   errors: " + e.name() + " (" + e.status() + "): " + e.getMessage());
        }
        // libccz's detail echoes the input in UTF-8: a character outside the BMP survives
        String key = "unknown\uD83D\uDE00key";
        e = throwsOf(CczException.class,
                () -> Verifier.verify(new byte[] {1}, new VerifyOptions().policy("{\"" + key + "\": 1}")),
                "a policy with an unknown key");
        if (e != null) {
            check(e.getMessage().contains(key + ": unknown key"),
                    "the message names the key intact: " + e.getMessage());
        }
        Verdict v = Verifier.verify("not evidence".getBytes(StandardCharsets.UTF_8));
        check(!v.ok() && !v.verified() && v.errorCode() != null,
                "garbage is a verdict, not an exception: " + v);
        e = throwsOf(CczException.class, () -> new Attester(new Attester.Options().tee("nonsense")),
                "an unknown TEE");
        if (e != null) {
            check(e.getMessage().startsWith("tee: unknown TEE 'nonsense'"),
                    "an unknown TEE: the message names the step: " + e.getMessage());
        }
        e = throwsOf(CczException.class, () -> Attester.sim("/nonexistent/ccz-platform"),
                "a sim platform that does not exist");
    }

    /**
     * Strings reach libccz as standard UTF-8: a character outside the BMP intact (JNI's modified
     * UTF-8 would give C two encoded surrogates), a NUL refused (modified UTF-8 would give C the
     * bytes C0 80, and a NUL itself would cut the string short).
     */
    static void strings(Path work) throws IOException {
        String dir = "/nonexistent/ccz-\uD83D\uDE00";
        CczException e = throwsOf(CczException.class, () -> Attester.sim(dir),
                "a sim platform with a character outside the BMP that does not exist");
        if (e != null) {
            check(e.getMessage().contains("sim platform file " + dir + "/"),
                    "the path reached C and came back intact: " + e.getMessage());
        }
        String nul = work.resolve("nul").toString() + "\u0000x";
        e = throwsOf(CczException.class, () -> Sim.init(nul, false), "a path with a NUL");
        if (e != null) {
            eq(e.name(), "invalid_argument", "a path with a NUL: status");
            check(e.getMessage().contains("a string with a NUL character"),
                    "a path with a NUL: the message says why: " + e.getMessage());
        }
        try (java.util.stream.Stream<Path> files = Files.list(work)) {
            check(files.noneMatch(p -> p.getFileName().toString().startsWith("nul")),
                    "a path with a NUL: no directory made");
        }
        String plat = work.resolve("plat").toString();
        try (Attester a = Attester.sim(plat)) {
            e = throwsOf(CczException.class, () -> RaTls.createCertificate(a, "svc\u0000evil"),
                    "a subject CN with a NUL");
            if (e != null) {
                eq(e.name(), "invalid_argument", "a subject CN with a NUL: status");
            }
        }
        System.out.println("ok   strings: UTF-8 outside the BMP intact, a NUL refused");
    }

    static void refused(Runnable r, String name, String message, String what) {
        CczException e = throwsOf(CczException.class, r, what);
        if (e != null) {
            eq(e.name(), name, what + ": status");
            eq(e.getMessage(), message, what + ": message");
        }
    }

    /**
     * What the binding checks before libccz sees it (each refusal with its status and message)
     * and what it passes on: the measurement, debug flag and product id of a sim attester, sim
     * roots given as certificates, an Intel root CA, a certificate's subject and key type.
     */
    static void options(Path work) throws Exception {
        String plat = work.resolve("plat").toString();
        for (int n : new int[] {31, 33}) {
            Attester.Options o = new Attester.Options().simDir(plat).measurement(new byte[n]);
            refused(() -> new Attester(o), "invalid_argument", "argument: measurement: 32 bytes",
                    "a measurement of " + n);
        }
        for (int[] ps : new int[][] {{0, 65536}, {0, -1}, {65536, 0}, {-1, 0}}) {
            Attester.Options o = new Attester.Options().simDir(plat).productId(ps[0]).svn(ps[1]);
            refused(() -> new Attester(o), "invalid_argument",
                    "argument: productId and svn: 0..65535",
                    "productId " + ps[0] + ", svn " + ps[1]);
        }
        byte[] m = new byte[32];
        Arrays.fill(m, (byte) 0x5a);
        byte[] ev;
        try (Attester a = new Attester(new Attester.Options().simDir(plat).measurement(m)
                .debug(true).productId(65535).svn(65535))) {
            refused(() -> a.attest(new byte[65]), "invalid_argument",
                    "argument: report data: at most 64 bytes", "65 bytes of report data");
            ev = a.attest(new byte[64]);
        }
        byte[] root = Files.readAllBytes(work.resolve("plat").resolve("root.crt"));
        String policy = "{\"allow_sim\": true, \"allow_debug\": true}";
        Verdict v = Verifier.verify(ev, new VerifyOptions().simRoot(root).policy(policy));
        check(v.ok(), "sim evidence with its root given as a certificate: " + v);
        eq(v.claims().get("mr_enclave"), "5a".repeat(32), "the measurement given");
        eq(v.claims().get("debug"), Boolean.TRUE, "the debug flag given");
        eq(v.claims().get("isv_prod_id"), 65535L, "the product id given");
        refused(() -> Verifier.verify(ev, new VerifyOptions().simRoot(null)), "invalid_argument",
                "argument: sim roots: null element", "a null sim root");
        CczException e = throwsOf(CczException.class, () -> Verifier.verify(ev,
                new VerifyOptions().rootCa("not a certificate".getBytes(StandardCharsets.UTF_8))),
                "a root CA that is not a certificate");
        if (e != null) {
            eq(e.name(), "certificate_malformed", "a root CA that is not a certificate: status");
        }
        refused(() -> Paillier.generatePaillierKeypair(-1), "invalid_argument",
                "argument: bits: positive", "a key of -1 bits");
        RaTls.Certificate c;
        try (Attester a = Attester.sim(plat)) {
            c = RaTls.createCertificate(a, "java.example");
        }
        java.security.cert.X509Certificate x = (java.security.cert.X509Certificate)
                java.security.cert.CertificateFactory.getInstance("X.509").generateCertificate(
                        new java.io.ByteArrayInputStream(
                                c.certificatePem().getBytes(StandardCharsets.US_ASCII)));
        check(x.getSubjectX500Principal().getName().contains("CN=java.example"),
                "the subject CN given: " + x.getSubjectX500Principal());
        eq(((java.security.interfaces.ECPublicKey) x.getPublicKey()).getParams().getCurve()
                .getField().getFieldSize(), 256, "a P-256 key");
        System.out.println("ok   options: refusals, and what reaches libccz");
    }

    /**
     * What each option of Sim, Attester, VerifyOptions and Verifier does once it reaches libccz
     * (force, the device root, a default TEE, a copy of the measurement, 64 bytes of report data,
     * a cleared option), the binding's own refusals, and a verdict's exact error code.
     */
    static void passedOn(Path work) throws Exception {
        String plat = work.resolve("plat").toString();
        refused(() -> Sim.init(plat, false), "already_exists",
                "sim platform: a sim platform exists in " + plat + " already (use --force to replace it)",
                "a second platform in a directory");
        Path forced = work.resolve("forced");
        Sim.init(forced.toString(), true);
        byte[] root1 = Files.readAllBytes(forced.resolve("root.crt"));
        Sim.init(forced.toString(), true);
        check(!Arrays.equals(Files.readAllBytes(forced.resolve("root.crt")), root1), "force replaces a platform");
        eq(new BigInteger(1, Sim.measure("/bin/sh")), new BigInteger(1, java.security.MessageDigest
                .getInstance("SHA-256").digest(Files.readAllBytes(Paths.get("/bin/sh")))),
                "sim measure is SHA-256 of the file");
        refused(() -> Sim.measure("/nonexistent/prog"), "not_found",
                "sim measure: cannot open /nonexistent/prog: No such file or directory",
                "measuring a file that does not exist");
        refused(() -> Sim.measure(null), "invalid_argument", "argument: path: null", "measuring null");
        String dr = work.resolve("devroot").toString();
        try (Attester a = new Attester(new Attester.Options().tee("sgx").deviceRoot(dr))) {
            refused(() -> a.attest(new byte[0]), "tee_unavailable",
                    "attest: no Gramine attestation interface at " + dr + "/dev/attestation/attestation_type"
                    + " (run inside gramine-sgx with sgx.remote_attestation = \"dcap\")",
                    "an SGX attester under a device root");
        }
        refused(() -> new Attester("nonsense"), "invalid_argument",
                "tee: unknown TEE 'nonsense' (expected sim, sgx, tdx, snp, "
                + "az-snp-vtpm, az-tdx-vtpm, csv or cca)", "new Attester(\"nonsense\")");
        byte[] m = new byte[32];
        Arrays.fill(m, (byte) 0x11);
        Attester.Options ao = new Attester.Options().tee(null).simDir(plat).measurement(m);
        Arrays.fill(m, (byte) 0x22); // the options keep their copy
        byte[] rd = new byte[64];
        Arrays.fill(rd, (byte) 0x7e);
        Attester sa = new Attester(ao);
        eq(sa.tee(), "sim", "tee null: sim");
        byte[] ev = sa.attest(rd);
        sa.close();
        message(throwsOf(IllegalStateException.class, () -> sa.attest(rd), "attesting after close"),
                "attester closed", "attesting after close");
        String policy = "{\"allow_sim\": true}";
        Verdict v = Verifier.verify(ev, new VerifyOptions().simDir(plat).policy(policy).reportData(rd));
        check(v.ok(), "64 bytes of report data: " + v);
        eq(v.claims().get("mr_enclave"), "11".repeat(32), "the measurement as given to the options");
        v = Verifier.verify(ev, new VerifyOptions().simDir(plat).policy(policy).reportData(new byte[1])
                .reportData(null));
        check(v.ok(), "report data cleared: not checked: " + v);
        try (Attester a = Attester.sim(plat)) {
            v = Verifier.verify(a.attest(new byte[] {9}), new VerifyOptions().simDir(plat).policy(policy)
                    .reportData(new byte[] {9}));
            check(v.ok(), "one byte of report data: " + v);
        }
        v = Verifier.verify(ev, new VerifyOptions().simDir(plat).policy(policy).reportData(new byte[64]));
        eq(v.errorCode(), "report_data_mismatch", "other report data: the error code");
        message(throwsOf(IllegalArgumentException.class, () -> new VerifyOptions().reportData(new byte[65]),
                "65 bytes of report data"), "report data: at most 64 bytes", "65 bytes of report data");
        message(throwsOf(IllegalArgumentException.class, () -> Verifier.verify(null, new VerifyOptions()),
                "null evidence"), "evidence: null", "null evidence");
        // the native checks behind them, reached directly
        refused(() -> Native.verify(null, null, null, new byte[0][], plat, 0, null, null, new boolean[1]),
                "invalid_argument", "argument: evidence: null", "native: null evidence");
        for (int n : new int[] {63, 65}) {
            refused(() -> Native.verify(ev, null, null, new byte[0][], plat, 0, null, new byte[n], new boolean[1]),
                    "invalid_argument", "argument: report data: 64 bytes (pad shorter data with zeros)",
                    "native: report data of " + n);
        }
        String json = Native.verify(ev, null, null, new byte[0][], plat, System.currentTimeMillis() / 1000,
                policy.getBytes(StandardCharsets.UTF_8), rd, new boolean[0]);
        check(json != null && json.startsWith("{\"ok\":true,"), "native: no room for ok: " + json);
        NativeRef none = new NativeRef(0, "nothing") {
            @Override
            void free(long ptr) {
                check(false, "a null pointer freed");
            }
        };
        message(throwsOf(IllegalStateException.class, () -> none.use(p -> p), "a null pointer used"),
                "nothing closed", "a null pointer used");
        System.out.println("ok   passed on: force, device root, measurement copy, report data, native checks");
    }

    static byte[] read(Path p, String format) throws IOException {
        byte[] b = Files.readAllBytes(p);
        if (!"hex".equals(format)) {
            return b;
        }
        String s = new String(b, StandardCharsets.US_ASCII).trim();
        if (s.startsWith("0x")) {
            s = s.substring(2);
        }
        byte[] out = new byte[s.length() / 2];
        for (int i = 0; i < out.length; i++) {
            out[i] = (byte) Integer.parseInt(s.substring(2 * i, 2 * i + 2), 16);
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    static void vectors() throws Exception {
        String dir = System.getenv("CCZ_VECTORS");
        String src = System.getenv("CCZ_SOURCE_DIR");
        if ((dir == null || dir.isEmpty()) && src != null) {
            dir = Paths.get(src, "..", "shared", "vectors").toString();
        }
        String ccz = System.getenv("CCZ");
        if (dir == null || !Files.exists(Paths.get(dir, "dcap_cases.json"))) {
            String why = "no " + dir + "/dcap_cases.json (set CCZ_VECTORS)";
            // under CI absent vectors are a failure, not a skip, as for the C tests
            check(!"true".equals(System.getenv("CI")), why + ": CI=true forbids skipping them");
            System.out.println("note: " + why + ": the recorded quotes are not checked");
            return;
        }
        List<Object> cases = (List<Object>) Json.parse(
                new String(Files.readAllBytes(Paths.get(dir, "dcap_cases.json")), StandardCharsets.UTF_8));
        int n = 0;
        for (Object o : cases) {
            Map<String, Object> c = (Map<String, Object>) o;
            String id = (String) c.get("id");
            Path quote = Paths.get(dir, (String) c.get("quote"));
            Path col = Paths.get(dir, (String) c.get("collateral"));
            Path root = Paths.get(dir, (String) c.get("root_ca"));
            long at = ((Number) c.get("now_unix")).longValue();
            VerifyOptions opts = new VerifyOptions().collateral(Files.readAllBytes(col))
                    .rootCa(Files.readAllBytes(root)).at(at);
            Verdict v = Verifier.verify(read(quote, (String) c.get("quote_format")), opts);
            Map<String, Object> want = (Map<String, Object>) c.get("verify");
            eq(v.verified(), want.get("ok"), id + ": verified as recorded");
            if (Boolean.TRUE.equals(want.get("ok")) && want.containsKey("tcb_status")) {
                eq(v.document().get("tcb_status"), want.get("tcb_status"), id + ": tcb_status");
            }
            if (ccz != null) {
                Map<String, Object> cli = cliVerify(ccz, quote, col, root, at);
                for (String k : Arrays.asList("ok", "verified", "tee", "tcb_status", "advisories",
                        "claims")) {
                    eq(v.document().get(k), cli.get(k), id + ": " + k + " as ccz verify --json");
                }
                eq(v.errorCode(), cli.get("error") == null ? null
                        : ((Map<String, Object>) cli.get("error")).get("code"),
                        id + ": error code as ccz verify --json");
            }
            n++;
        }
        System.out.println("ok   " + n + " recorded quotes: the verdicts of the C library"
                + (ccz != null ? " (ccz verify --json)" : ""));
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> cliVerify(String ccz, Path quote, Path col, Path root, long at)
            throws IOException, InterruptedException {
        Process p = new ProcessBuilder(ccz, "verify", quote.toString(), "--collateral",
                col.toString(), "--root-ca", root.toString(), "--at", Long.toString(at), "--json")
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        byte[] out;
        try (InputStream in = p.getInputStream()) {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            in.transferTo(b);
            out = b.toByteArray();
        }
        p.waitFor();
        return (Map<String, Object>) Json.parse(new String(out, StandardCharsets.UTF_8));
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (var s = Files.walk(p)) {
            s.sorted((x, y) -> y.compareTo(x)).forEach(q -> q.toFile().delete());
        }
    }
}
