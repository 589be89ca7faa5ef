package io.basalt.frontend.tools;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads one call object, {@code {"name": NAME, "arguments": VALUE}} ("parameters" for "arguments", an optional
 * {@code "type": "function"} first), one character at a time, as chat-template models write calls (Hermes inside
 * {@code <tool_call>} tags, Llama-3 JSON). Every decision depends only on the characters read so far, so the
 * same text split anywhere reads the same.
 *
 * <p>The fast path needs the name first: it is known as soon as its closing quote arrives, and the arguments
 * value then streams out raw, as written ({@link #drainArguments}). An object in another key order is
 * {@link Head#UNREADABLE} here and can only be read whole, by {@link #parseWhole}.
 */
final class JsonCallReader {
    enum Head { PENDING, NAMED, UNREADABLE }

    private enum Phase { HEAD, KEY, VALUE, REST }

    /** A name longer than this (or junk that long before it) is not a call head. */
    private static final int MAX_HEAD = 1024;
    private static final Pattern HEAD = Pattern.compile(
            "\\s*\\{\\s*(?:\"type\"\\s*:\\s*\"function\"\\s*,\\s*)?\"name\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"");
    private static final Pattern KEY = Pattern.compile("\\s*,\\s*\"(?:arguments|parameters)\"\\s*:\\s*(?=\\S)");
    private static final JsonFactory JSON = new JsonFactory();

    private final StringBuilder raw = new StringBuilder();
    private final StringBuilder arguments = new StringBuilder();
    private Phase phase = Phase.HEAD;
    private Head head = Head.PENDING;
    private String name;
    private int keyFrom;
    private boolean sawArguments;
    private final Nesting outer = new Nesting();
    private final Nesting value = new Nesting();
    private char valueKind;

    /** Feeds one character of the object (leading whitespace allowed). */
    void accept(char c) {
        raw.append(c);
        outer.accept(c);
        switch (phase) {
            case HEAD -> {
                Matcher m = HEAD.matcher(raw);
                if (m.lookingAt()) {
                    name = unquote(m.group(1));
                    head = Head.NAMED;
                    keyFrom = m.end();
                    phase = Phase.KEY;
                } else if (!m.hitEnd() || raw.length() > MAX_HEAD) {
                    head = Head.UNREADABLE;
                    phase = Phase.REST;
                }
            }
            case KEY -> {
                Matcher m = KEY.matcher(raw).region(keyFrom, raw.length());
                if (m.lookingAt()) {
                    phase = Phase.VALUE;
                    sawArguments = true;
                    valueKind = c;
                    acceptValue(c);
                } else if (!m.hitEnd()) {
                    phase = Phase.REST;           // no arguments key next: a call without arguments
                }
            }
            case VALUE -> acceptValue(c);
            case REST -> { }
        }
    }

    private void acceptValue(char c) {
        if (valueKind == '{' || valueKind == '[') {
            value.accept(c);
            arguments.append(c);
            if (value.closed()) phase = Phase.REST;
        } else if (valueKind == '"') {
            value.accept(c);
            arguments.append(c);
            if (arguments.length() > 1 && !value.inString()) phase = Phase.REST;
        } else if (Character.isLetterOrDigit(c) || c == '-' || c == '+' || c == '.') {
            arguments.append(c);                  // a literal: null, true, a number
        } else {
            phase = Phase.REST;
        }
    }

    Head head() { return head; }

    /** The function's name once {@link Head#NAMED}, else null. */
    String name() { return name; }

    /** Whether an arguments (or parameters) value began. */
    boolean sawArguments() { return sawArguments; }

    /** The arguments text read since the last call, raw. */
    String drainArguments() {
        String s = arguments.toString();
        arguments.setLength(0);
        return s;
    }

    /** The outer object's closing brace has been read. */
    boolean closed() { return outer.closed(); }

    /** Everything read, verbatim. */
    String raw() { return raw.toString(); }

    /** A call read whole: its name and its arguments' raw text (null when it has none). */
    record Parsed(String name, String arguments) {}

    /**
     * {@code text} (surrounding whitespace allowed) as one complete JSON call object in any key order, or null when
     * it is not one (invalid JSON, no string "name").
     */
    static Parsed parseWhole(String text) {
        String name = null, args = null;
        try (JsonParser p = JSON.createParser(text)) {
            if (p.nextToken() != JsonToken.START_OBJECT) return null;
            JsonToken t;
            while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken v = p.nextToken();
                int start = (int) p.currentTokenLocation().getCharOffset();
                if (v == JsonToken.START_OBJECT || v == JsonToken.START_ARRAY) p.skipChildren();
                else p.getText();
                if (field.equals("name") && v == JsonToken.VALUE_STRING) {
                    name = p.getText();
                } else if ((field.equals("arguments") || field.equals("parameters")) && args == null) {
                    args = text.substring(start, valueEnd(text, start));
                }
            }
            if (t != JsonToken.END_OBJECT) return null;
        } catch (IOException | RuntimeException e) {
            return null;
        }
        return name == null ? null : new Parsed(name, args);
    }

    /** Where the JSON value starting at {@code from} ends, by the same rules as the streamed arguments. */
    private static int valueEnd(String s, int from) {
        JsonCallReader r = new JsonCallReader();
        r.valueKind = s.charAt(from);
        r.phase = Phase.VALUE;
        int i = from;
        while (i < s.length() && r.phase == Phase.VALUE) r.acceptValue(s.charAt(i++));
        return from + r.arguments.length();
    }

    private static String unquote(String body) {
        if (body.indexOf('\\') < 0) return body;
        try (JsonParser p = JSON.createParser("\"" + body + "\"")) {
            p.nextToken();
            return p.getText();
        } catch (IOException | RuntimeException e) {
            return body;
        }
    }

    /** Bracket depth outside strings, with escapes: enough to tell where a JSON value ends. */
    static final class Nesting {
        private int depth;
        private boolean opened, inString, escaped, closed;

        void accept(char c) {
            if (closed) return;
            if (inString) {
                if (escaped) escaped = false;
                else if (c == '\\') escaped = true;
                else if (c == '"') inString = false;
                return;
            }
            switch (c) {
                case '"' -> inString = true;
                case '{', '[' -> {
                    depth++;
                    opened = true;
                }
                case '}', ']' -> {
                    if (depth > 0 && --depth == 0 && opened) closed = true;
                }
                default -> { }
            }
        }

        boolean inString() { return inString; }

        boolean closed() { return closed; }
    }
}
