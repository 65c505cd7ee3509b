// SPDX-License-Identifier: Apache-2.0
package org.ccz;

/** The simulated TEE: SIMULATED evidence, for development and tests only. */
public final class Sim {
    private Sim() {}

    /** Creates a sim platform in dir (root, attestation key, default signer). */
    public static void init(String dir, boolean force) {
        Native.simInit(dir, force);
    }

    /** The sim measurement of a program: SHA-256 of the file. */
    public static byte[] measure(String path) {
        return Native.simMeasure(path);
    }
}
