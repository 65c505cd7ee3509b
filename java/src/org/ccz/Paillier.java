// SPDX-License-Identifier: Apache-2.0
package org.ccz;

import java.lang.ref.Cleaner;
import java.math.BigInteger;

/**
 * Paillier's additively homomorphic encryption on libccz, in python-paillier's shape (the
 * cross-language rows of the zoo pass the same numbers between Python and Java):
 * {@code Paillier.generatePaillierKeypair(2048)} gives a public and a private key;
 * {@code publicKey.encrypt(m)} an EncryptedNumber; EncryptedNumbers add to each other and to
 * plaintexts and multiply by plaintexts; {@code privateKey.decrypt(x)} gives the sum back.
 * Integers are signed, in [-maxInt, maxInt] with maxInt = n / 3 - 1 as python-paillier's: an
 * encryption outside it, or a decryption that falls outside it (an overflow), throws
 * ArithmeticException. The ciphertext is (1 + n)^m r^n mod n^2, python-paillier's too.
 */
public final class Paillier {
    private static final Cleaner CLEANER = Cleaner.create();

    private Paillier() {}

    /** A public key and its private key. */
    public static final class KeyPair {
        public final PublicKey publicKey;
        public final PrivateKey privateKey;

        KeyPair(PublicKey pub, PrivateKey priv) {
            this.publicKey = pub;
            this.privateKey = priv;
        }
    }

    private static final class Handle extends NativeRef {
        final boolean key;

        Handle(long ptr, boolean key) {
            super(ptr, "key");
            this.key = key;
        }

        @Override
        void free(long ptr) {
            if (key) {
                Native.paillierKeyFree(ptr);
            } else {
                Native.paillierPubFree(ptr);
            }
        }
    }

    /** A fresh key pair with an n of nLength bits (python-paillier's default: 2048). */
    public static KeyPair generatePaillierKeypair(int nLength) {
        PrivateKey priv = new PrivateKey(Native.paillierKeygen(nLength));
        return new KeyPair(priv.publicKey, priv);
    }

    public static KeyPair generatePaillierKeypair() {
        return generatePaillierKeypair(2048);
    }

    static BigInteger big(byte[] magnitude) {
        return new BigInteger(1, magnitude);
    }

    static byte[] mag(BigInteger v) {
        byte[] b = v.abs().toByteArray();
        if (b.length > 1 && b[0] == 0) {
            return java.util.Arrays.copyOfRange(b, 1, b.length);
        }
        return b;
    }

    /** Public key: n, and g = n + 1. */
    public static final class PublicKey implements AutoCloseable {
        public final BigInteger n;
        public final BigInteger nsquare;
        public final BigInteger g;
        public final BigInteger maxInt;
        private final Handle handle;
        private final Cleaner.Cleanable cleanable;

        public PublicKey(BigInteger n) {
            if (n.signum() <= 0) {
                throw new IllegalArgumentException("n: positive");
            }
            this.n = n;
            this.nsquare = n.multiply(n);
            this.g = n.add(BigInteger.ONE);
            this.maxInt = n.divide(BigInteger.valueOf(3)).subtract(BigInteger.ONE);
            this.handle = new Handle(Native.paillierPubNew(mag(n)), false);
            this.cleanable = CLEANER.register(this, handle);
        }

        /** f applied to the native key, kept alive (not freed by a close) until f returns. */
        <T> T use(java.util.function.LongFunction<T> f) {
            return handle.use(f);
        }

        /** Encrypts a signed integer in [-maxInt, maxInt]. */
        public EncryptedNumber encrypt(BigInteger value) {
            byte[] m = mag(encode(value));
            byte[] c = use(p -> Native.paillierOp(p, 0, m, 1, null));
            return new EncryptedNumber(this, c);
        }

        public EncryptedNumber encrypt(long value) {
            return encrypt(BigInteger.valueOf(value));
        }

        /** Encrypts a raw plaintext in [0, n) (no signed encoding). */
        public EncryptedNumber rawEncrypt(BigInteger plaintext) {
            if (plaintext.signum() < 0 || plaintext.compareTo(n) >= 0) {
                throw new ArithmeticException("raw plaintext outside [0, n)");
            }
            byte[] m = mag(plaintext);
            byte[] c = use(p -> Native.paillierOp(p, 0, m, 1, null));
            return new EncryptedNumber(this, c);
        }

        BigInteger encode(BigInteger value) {
            if (value.abs().compareTo(maxInt) > 0) {
                throw new ArithmeticException("integer out of range: |value| > maxInt");
            }
            return value.signum() < 0 ? value.add(n) : value;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof PublicKey && ((PublicKey) o).n.equals(n);
        }

        @Override
        public int hashCode() {
            return n.hashCode();
        }

        @Override
        public void close() {
            cleanable.clean();
        }
    }

    /** Private key: p and q, kept in native memory and wiped when closed. */
    public static final class PrivateKey implements AutoCloseable {
        public final PublicKey publicKey;
        private final Handle handle;
        private final Cleaner.Cleanable cleanable;

        PrivateKey(long ptr) {
            this.handle = new Handle(ptr, true);
            this.cleanable = CLEANER.register(this, handle);
            this.publicKey = new PublicKey(big(Native.paillierKeyN(ptr)));
        }

        /** The signed integer x encrypts. */
        public BigInteger decrypt(EncryptedNumber x) {
            BigInteger m = rawDecrypt(x);
            BigInteger n = publicKey.n;
            if (m.compareTo(publicKey.maxInt) <= 0) {
                return m;
            }
            if (m.compareTo(n.subtract(publicKey.maxInt)) >= 0) {
                return m.subtract(n);
            }
            throw new ArithmeticException("overflow: the result is outside [-maxInt, maxInt]");
        }

        /** The raw plaintext in [0, n). */
        public BigInteger rawDecrypt(EncryptedNumber x) {
            if (!x.publicKey.equals(publicKey)) {
                throw new IllegalArgumentException("encrypted under another public key");
            }
            byte[] c = mag(x.ciphertext(false));
            return big(handle.use(p -> Native.paillierDecrypt(p, c)));
        }

        @Override
        public void close() {
            cleanable.clean();
            publicKey.close();
        }
    }

    /** An encrypted integer. */
    public static final class EncryptedNumber {
        public final PublicKey publicKey;
        private BigInteger ciphertext;
        private boolean fresh; // not yet rerandomized since an operation made it

        EncryptedNumber(PublicKey pk, byte[] c) {
            this.publicKey = pk;
            this.ciphertext = big(c);
        }

        /** An EncryptedNumber from a ciphertext in [1, n^2) (python-paillier's constructor). */
        public EncryptedNumber(PublicKey pk, BigInteger ciphertext) {
            if (ciphertext.signum() <= 0 || ciphertext.compareTo(pk.nsquare) >= 0) {
                throw new IllegalArgumentException("ciphertext outside [1, n^2)");
            }
            this.publicKey = pk;
            this.ciphertext = ciphertext;
        }

        private static EncryptedNumber derived(PublicKey pk, byte[] c) {
            EncryptedNumber x = new EncryptedNumber(pk, c);
            x.fresh = true;
            return x;
        }

        /**
         * The ciphertext; be_secure (python-paillier's): rerandomize first a result of an
         * operation, so it reveals nothing of its operands.
         */
        public BigInteger ciphertext(boolean beSecure) {
            if (beSecure && fresh) {
                byte[] c = mag(ciphertext);
                ciphertext = big(publicKey.use(p -> Native.paillierOp(p, 4, c, 1, null)));
                fresh = false;
            }
            return ciphertext;
        }

        public BigInteger ciphertext() {
            return ciphertext(true);
        }

        public EncryptedNumber add(EncryptedNumber other) {
            if (!other.publicKey.equals(publicKey)) {
                throw new IllegalArgumentException("encrypted under another public key");
            }
            byte[] a = mag(ciphertext), b = mag(other.ciphertext);
            return derived(publicKey, publicKey.use(p -> Native.paillierOp(p, 1, a, 1, b)));
        }

        public EncryptedNumber add(BigInteger plain) {
            byte[] a = mag(ciphertext), b = mag(publicKey.encode(plain));
            return derived(publicKey, publicKey.use(p -> Native.paillierOp(p, 2, a, 1, b)));
        }

        public EncryptedNumber add(long plain) {
            return add(BigInteger.valueOf(plain));
        }

        public EncryptedNumber subtract(EncryptedNumber other) {
            return add(other.multiply(BigInteger.ONE.negate()));
        }

        public EncryptedNumber multiply(BigInteger k) {
            if (k.abs().compareTo(publicKey.n) >= 0) {
                throw new ArithmeticException("|k| >= n");
            }
            byte[] a = mag(ciphertext), b = mag(k);
            return derived(publicKey, publicKey.use(p -> Native.paillierOp(p, 3, a, k.signum(), b)));
        }

        public EncryptedNumber multiply(long k) {
            return multiply(BigInteger.valueOf(k));
        }
    }
}
