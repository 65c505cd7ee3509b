// SPDX-License-Identifier: Apache-2.0
package org.ccz;

/**
 * A failure libccz reported: {@link #status()} is ccz's status code (negative), {@link #name()}
 * its stable name ("policy_invalid", "invalid_argument", as {@code ccz verify --json} names
 * them), and the message says what exactly failed.
 */
public class CczException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int status;
    private final String name;

    public CczException(int status, String name, String message) {
        super(message);
        this.status = status;
        this.name = name;
    }

    /** ccz's status code (a negative ccz_status). */
    public int status() {
        return status;
    }

    /** The status's stable name. */
    public String name() {
        return name;
    }
}
