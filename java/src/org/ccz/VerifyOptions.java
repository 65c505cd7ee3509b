// SPDX-License-Identifier: Apache-2.0
package org.ccz;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * What a verification trusts and checks: Intel collateral (JSON, as {@code ccz collateral fetch}
 * writes it) for SGX/TDX quotes, an Intel root CA instead of the built-in roots, sim platform
 * roots (or a sim platform directory), the instant of verification (default now), the policy
 * (ccz's JSON format or CCZoo's dynamic_config.json; default: the default policy, which refuses
 * sim evidence) and the report data the evidence must bind (64 bytes; shorter is zero-padded).
 */
public final class VerifyOptions {
    byte[] collateral;
    byte[] rootCa;
    final List<byte[]> simRoots = new ArrayList<>();
    String simDir;
    Long at;
    byte[] policy;
    byte[] reportData;

    public VerifyOptions collateral(byte[] json) {
        this.collateral = json;
        return this;
    }

    public VerifyOptions rootCa(byte[] pemOrDer) {
        this.rootCa = pemOrDer;
        return this;
    }

    public VerifyOptions simRoot(byte[] pemOrDer) {
        this.simRoots.add(pemOrDer);
        return this;
    }

    public VerifyOptions simDir(String dir) {
        this.simDir = dir;
        return this;
    }

    /** Verify as at this instant (unix seconds). */
    public VerifyOptions at(long unixSeconds) {
        this.at = unixSeconds;
        return this;
    }

    public VerifyOptions policy(String json) {
        this.policy = json == null ? null : json.getBytes(StandardCharsets.UTF_8);
        return this;
    }

    public VerifyOptions reportData(byte[] data) {
        if (data == null) {
            this.reportData = null;
            return this;
        }
        if (data.length > 64) {
            throw new IllegalArgumentException("report data: at most 64 bytes");
        }
        this.reportData = java.util.Arrays.copyOf(data, 64);
        return this;
    }
}
