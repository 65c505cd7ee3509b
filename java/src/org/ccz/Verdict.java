// SPDX-License-Identifier: Apache-2.0
package org.ccz;

import java.util.Collections;
import java.util.Map;

/**
 * A verification's outcome: the document {@code ccz verify --json} prints (ok, verified, tee,
 * simulated, tcb_status, advisories, claims, policy {accepted, reasons}, ratls, error {code,
 * step, message}), as text and parsed.
 */
public final class Verdict {
    private final String json;
    private final boolean ok;
    private final Map<String, Object> doc;

    @SuppressWarnings("unchecked")
    Verdict(String json, boolean ok) {
        this.json = json;
        this.ok = ok;
        Object d = Json.parse(json);
        this.doc = d instanceof Map ? Collections.unmodifiableMap((Map<String, Object>) d)
                : Collections.emptyMap();
    }

    /** Verified, and accepted by the policy. */
    public boolean ok() {
        return ok;
    }

    /** The evidence (or certificate) verified, whatever the policy said. */
    public boolean verified() {
        return Boolean.TRUE.equals(doc.get("verified"));
    }

    /** "sgx", "tdx", "snp", "sim", ..., or null when not even the format was recognized. */
    public String tee() {
        Object t = doc.get("tee");
        return t instanceof String ? (String) t : null;
    }

    /** The claims (measurements as lower-case hex), empty when not verified. */
    @SuppressWarnings("unchecked")
    public Map<String, Object> claims() {
        Object c = doc.get("claims");
        return c instanceof Map ? (Map<String, Object>) c : Collections.emptyMap();
    }

    /** The error's code ("signature_invalid", ...), or null when it verified. */
    @SuppressWarnings("unchecked")
    public String errorCode() {
        Object e = doc.get("error");
        return e instanceof Map ? (String) ((Map<String, Object>) e).get("code") : null;
    }

    /** The whole document. */
    public Map<String, Object> document() {
        return doc;
    }

    /** The document as JSON text. */
    public String json() {
        return json;
    }

    @Override
    public String toString() {
        return json;
    }
}
