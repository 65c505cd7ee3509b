// SPDX-License-Identifier: Apache-2.0
package org.ccz;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small JSON reader for the documents libccz returns (verdicts): objects as LinkedHashMap,
 * arrays as ArrayList, strings, Long or Double numbers, Boolean, null. It reads only what libccz
 * wrote, but checks every byte anyway and throws IllegalArgumentException on anything else.
 */
final class Json {
    private final String s;
    private int i;

    private Json(String s) {
        this.s = s;
    }

    static Object parse(String text) {
        Json j = new Json(text);
        j.ws();
        Object v = j.value(0);
        j.ws();
        if (j.i != text.length()) {
            throw j.error("trailing data");
        }
        return v;
    }

    private IllegalArgumentException error(String what) {
        return new IllegalArgumentException("JSON: " + what + " at " + i);
    }

    private void ws() {
        while (i < s.length() && " \t\r\n".indexOf(s.charAt(i)) >= 0) {
            i++;
        }
    }

    private void expect(char c) {
        if (i >= s.length() || s.charAt(i) != c) {
            throw error("'" + c + "' expected");
        }
        i++;
    }

    private Object value(int depth) {
        if (depth > 64) {
            throw error("nested too deep");
        }
        if (i >= s.length()) {
            throw error("value expected");
        }
        char c = s.charAt(i);
        switch (c) {
            case '{': {
                i++;
                Map<String, Object> m = new LinkedHashMap<>();
                ws();
                if (i < s.length() && s.charAt(i) == '}') {
                    i++;
                    return m;
                }
                while (true) {
                    ws();
                    String k = string();
                    ws();
                    expect(':');
                    ws();
                    m.put(k, value(depth + 1));
                    ws();
                    if (i < s.length() && s.charAt(i) == ',') {
                        i++;
                        continue;
                    }
                    expect('}');
                    return m;
                }
            }
            case '[': {
                i++;
                List<Object> l = new ArrayList<>();
                ws();
                if (i < s.length() && s.charAt(i) == ']') {
                    i++;
                    return l;
                }
                while (true) {
                    ws();
                    l.add(value(depth + 1));
                    ws();
                    if (i < s.length() && s.charAt(i) == ',') {
                        i++;
                        continue;
                    }
                    expect(']');
                    return l;
                }
            }
            case '"':
                return string();
            case 't':
                literal("true");
                return Boolean.TRUE;
            case 'f':
                literal("false");
                return Boolean.FALSE;
            case 'n':
                literal("null");
                return null;
            default:
                return number();
        }
    }

    private void literal(String w) {
        if (!s.startsWith(w, i)) {
            throw error(w + " expected");
        }
        i += w.length();
    }

    private boolean at(char c) {
        return i < s.length() && s.charAt(i) == c;
    }

    /** Skips a run of ASCII digits; false when there is none. */
    private boolean digits() {
        int start = i;
        while (i < s.length() && s.charAt(i) >= '0' && s.charAt(i) <= '9') {
            i++;
        }
        return i > start;
    }

    /** A number as RFC 8259 writes it: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?. */
    private Object number() {
        int start = i;
        if (at('-')) {
            i++;
        }
        if (at('0')) {
            i++;
        } else if (i >= s.length() || s.charAt(i) < '1' || s.charAt(i) > '9' || !digits()) {
            throw error("value expected");
        }
        boolean real = false;
        if (at('.')) {
            real = true;
            i++;
            if (!digits()) {
                throw error("digit expected after '.'");
            }
        }
        if (at('e') || at('E')) {
            real = true;
            i++;
            if (at('+') || at('-')) {
                i++;
            }
            if (!digits()) {
                throw error("digit expected in the exponent");
            }
        }
        String t = s.substring(start, i);
        try {
            return real ? (Object) Double.valueOf(t) : (Object) Long.valueOf(t);
        } catch (NumberFormatException e) {
            throw error("bad number " + t);
        }
    }

    private String string() {
        expect('"');
        StringBuilder b = new StringBuilder();
        while (true) {
            if (i >= s.length()) {
                throw error("unterminated string");
            }
            char c = s.charAt(i++);
            if (c == '"') {
                return b.toString();
            }
            if (c < 0x20) {
                throw error("control character in a string");
            }
            if (c != '\\') {
                b.append(c);
                continue;
            }
            if (i >= s.length()) {
                throw error("unterminated escape");
            }
            char e = s.charAt(i++);
            switch (e) {
                case '"': b.append('"'); break;
                case '\\': b.append('\\'); break;
                case '/': b.append('/'); break;
                case 'b': b.append('\b'); break;
                case 'f': b.append('\f'); break;
                case 'n': b.append('\n'); break;
                case 'r': b.append('\r'); break;
                case 't': b.append('\t'); break;
                case 'u':
                    if (i + 4 > s.length()) {
                        throw error("short \\u escape");
                    }
                    int u = 0;
                    for (int end = i + 4; i < end; i++) { // not parseInt: it takes a sign
                        int d = "0123456789abcdefABCDEF".indexOf(s.charAt(i));
                        if (d < 0) {
                            throw error("bad \\u escape");
                        }
                        u = u * 16 + (d < 16 ? d : d - 6);
                    }
                    b.append((char) u);
                    break;
                default:
                    throw error("bad escape");
            }
        }
    }
}
