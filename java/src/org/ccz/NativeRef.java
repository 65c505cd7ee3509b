// SPDX-License-Identifier: Apache-2.0
package org.ccz;

import java.util.function.LongFunction;

/**
 * A native object's pointer, freed once: by close (the cleaner's run) when no call is using
 * it, else by the last call using it. A call takes the pointer with {@link #use}, so a close
 * from another thread never frees the object under a native call (calls still run side by
 * side); after close, new calls get IllegalStateException.
 */
abstract class NativeRef implements Runnable {
    private long ptr;
    private int users;
    private boolean closed;
    private final String what;

    NativeRef(long ptr, String what) {
        this.ptr = ptr;
        this.what = what;
    }

    /** Frees the native object. */
    abstract void free(long ptr);

    private synchronized long acquire() {
        if (closed || ptr == 0) {
            throw new IllegalStateException(what + " closed");
        }
        users++;
        return ptr;
    }

    private synchronized void release() {
        if (--users == 0 && closed) {
            long p = ptr;
            ptr = 0;
            free(p);
        }
    }

    /** f applied to the pointer, which stays valid until f returns. */
    <T> T use(LongFunction<T> f) {
        long p = acquire();
        try {
            return f.apply(p);
        } finally {
            release();
        }
    }

    synchronized boolean isClosed() {
        return closed;
    }

    @Override
    public synchronized void run() {
        if (closed) {
            return;
        }
        closed = true;
        if (users == 0 && ptr != 0) {
            long p = ptr;
            ptr = 0;
            free(p);
        }
    }
}
