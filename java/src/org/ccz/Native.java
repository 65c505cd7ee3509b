// SPDX-License-Identifier: Apache-2.0
package org.ccz;

import java.io.File;

/**
 * The JNI functions of libccz_jni.so (java/native/ccz_jni.c). It is loaded from the system
 * property {@code ccz.jni.library} (a file) if set, else from {@code $CCZ_LIBRARY_DIR/libccz_jni.so}
 * if that exists, else by {@code System.loadLibrary("ccz_jni")} (java.library.path). Handles are
 * C pointers; the public classes own them.
 */
final class Native {
    static {
        String file = System.getProperty("ccz.jni.library");
        String dir = System.getenv("CCZ_LIBRARY_DIR");
        if (file != null) {
            System.load(new File(file).getAbsolutePath());
        } else if (dir != null && new File(dir, "libccz_jni.so").exists()) {
            System.load(new File(dir, "libccz_jni.so").getAbsolutePath());
        } else {
            System.loadLibrary("ccz_jni");
        }
    }

    private Native() {}

    static native void simInit(String dir, boolean force);

    static native byte[] simMeasure(String path);

    static native long attesterNew(String tee, String simDir, byte[] measurement, int productId,
            int svn, boolean debug, String deviceRoot);

    static native void attesterFree(long handle);

    static native String attesterTee(long handle);

    static native byte[] attest(long handle, byte[] reportData);

    static native String verify(byte[] evidence, byte[] collateral, byte[] rootCa,
            byte[][] simRoots, String simDir, long atUnix, byte[] policy, byte[] reportData,
            boolean[] ok);

    static native byte[][] ratlsCertCreate(long attester, String subjectCn, boolean p384);

    static native long paillierKeygen(int bits);

    static native void paillierKeyFree(long handle);

    static native byte[] paillierKeyN(long handle);

    static native long paillierPubNew(byte[] n);

    static native void paillierPubFree(long handle);

    static native byte[] paillierOp(long pub, int op, byte[] a, int bSign, byte[] b);

    static native byte[] paillierDecrypt(long key, byte[] ciphertext);
}
