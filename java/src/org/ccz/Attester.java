// SPDX-License-Identifier: Apache-2.0
package org.ccz;

import java.lang.ref.Cleaner;

/**
 * Produces evidence of the TEE this program runs in: {@code sim} (simulated, from a platform
 * directory), {@code sgx} (in Gramine: /dev/attestation), {@code tdx}, {@code snp} (in a
 * confidential VM guest). Close it when done (or let the cleaner do it).
 */
public final class Attester implements AutoCloseable {
    private static final Cleaner CLEANER = Cleaner.create();

    private static final class Handle extends NativeRef {
        Handle(long ptr) {
            super(ptr, "attester");
        }

        @Override
        void free(long ptr) {
            Native.attesterFree(ptr);
        }
    }

    private final Handle handle;
    private final Cleaner.Cleanable cleanable;

    /** Options of a sim attester: its measurement (32 bytes), product id, SVN, debug flag. */
    public static final class Options {
        String tee = "sim";
        String simDir;
        byte[] measurement;
        int productId;
        int svn;
        boolean debug;
        String deviceRoot;

        public Options tee(String tee) {
            this.tee = tee;
            return this;
        }

        public Options simDir(String dir) {
            this.simDir = dir;
            return this;
        }

        public Options measurement(byte[] m) {
            this.measurement = m == null ? null : m.clone();
            return this;
        }

        public Options productId(int id) {
            this.productId = id;
            return this;
        }

        public Options svn(int svn) {
            this.svn = svn;
            return this;
        }

        public Options debug(boolean debug) {
            this.debug = debug;
            return this;
        }

        /** sgx, tdx, snp: look for /dev and /sys under this directory. */
        public Options deviceRoot(String root) {
            this.deviceRoot = root;
            return this;
        }
    }

    public Attester(Options o) {
        long p = Native.attesterNew(o.tee, o.simDir, o.measurement, o.productId, o.svn, o.debug,
                o.deviceRoot);
        handle = new Handle(p);
        cleanable = CLEANER.register(this, handle);
    }

    /** An attester of the given TEE with default options (sim: the default platform). */
    public Attester(String tee) {
        this(new Options().tee(tee));
    }

    /** A sim attester on the platform in simDir. */
    public static Attester sim(String simDir) {
        return new Attester(new Options().simDir(simDir));
    }

    /** f applied to the native attester, kept alive (not freed by a close) until f returns. */
    <T> T use(java.util.function.LongFunction<T> f) {
        return handle.use(f);
    }

    /** The TEE its evidence is of. */
    public String tee() {
        return use(Native::attesterTee);
    }

    /** Evidence binding reportData (at most 64 bytes, zero-padded). */
    public byte[] attest(byte[] reportData) {
        byte[] data = reportData == null ? new byte[0] : reportData;
        return use(p -> Native.attest(p, data));
    }

    @Override
    public void close() {
        cleanable.clean();
    }
}
