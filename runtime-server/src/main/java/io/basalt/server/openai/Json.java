package io.basalt.server.openai;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.io.JsonEOFException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one Jackson mapper of the OpenAI layer. Reading is bounded: at most {@value #MAX_DEPTH} levels
 * of nesting (a body of 100,000 '[' would otherwise recurse), numbers of at most 100 digits, and
 * trailing garbage after the JSON value is an error. Errors are described in words of our own
 * ({@link #describe}), never Jackson's.
 */
public final class Json {
    static final int MAX_DEPTH = 64;

    public static final ObjectMapper MAPPER = JsonMapper.builder(JsonFactory.builder()
                    .streamReadConstraints(StreamReadConstraints.builder()
                            .maxNestingDepth(MAX_DEPTH)
                            .maxNumberLength(100)
                            .maxStringLength(64 << 20)
                            .build())
                    .disable(StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION)
                    .build())
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private Json() {}

    /** A request body that must be one JSON object; anything else is a 400 without a param. */
    public static ObjectNode parseObject(byte[] body) {
        int bad = firstInvalidUtf8(body);
        if (bad >= 0) {
            throw OpenAiException.invalid(null, "The request body is not valid UTF-8 (an invalid byte at offset " + bad + ")");
        }
        JsonNode node;
        try {
            node = MAPPER.readTree(body);
        } catch (JsonProcessingException e) {
            throw OpenAiException.invalid(null, "The request body is not valid JSON: " + describe(e));
        } catch (IOException e) {
            throw OpenAiException.invalid(null, "The request body could not be read as JSON");
        }
        if (node == null || node.isMissingNode()) throw OpenAiException.invalid(null, "The request body is empty; expected a JSON object");
        if (!node.isObject()) throw OpenAiException.invalid(null, "The request body must be a JSON object");
        return (ObjectNode) node;
    }

    private static final Pattern UNEXPECTED_CHAR = Pattern.compile("Unexpected character \\((?:'.*?' )?\\(code (\\d+)[^)]*\\)\\)(.*)",
            Pattern.DOTALL);
    private static final Pattern UNRECOGNIZED_TOKEN = Pattern.compile("Unrecognized token '(.*?)'", Pattern.DOTALL);
    private static final Pattern LIMIT = Pattern.compile("maximum allowed \\((\\d+)");
    private static final Pattern CONTROL_CHAR = Pattern.compile("Illegal unquoted character \\(\\(CTRL-CHAR, code (\\d+)\\)\\)");

    /**
     * What is wrong with a JSON text, as a sentence fragment with its line and column. Jackson's own
     * messages name its classes and features ("Source: REDACTED (`StreamReadFeature...`)", "enable
     * `JsonReadFeature...`") and are no answer to a client, so each known kind gets words of our own.
     */
    public static String describe(JsonProcessingException e) {
        String m = e.getOriginalMessage() == null ? "" : e.getOriginalMessage();
        String what;
        Matcher c;
        if (e instanceof StreamConstraintsException) {   // where it happened adds nothing
            Matcher limit = LIMIT.matcher(m);
            String max = limit.find() ? limit.group(1) : "the allowed";
            if (m.contains("nesting depth")) return "arrays and objects are nested deeper than " + max + " levels";
            if (m.startsWith("Number value length")) return "a number is longer than " + max + " characters";
            if (m.startsWith("String value length")) return "a string is longer than " + max + " characters";
            return "it exceeds this server's limits on JSON documents";
        }
        if (e instanceof JsonEOFException || m.startsWith("Unexpected end-of-input")) {
            what = m.contains("VALUE_STRING") || m.contains("field name") ? "it ends inside a string"
                    : "it ends before the JSON value is complete";
        } else if (m.startsWith("Trailing token")) {
            what = "there is more content after the JSON value";
        } else if ((c = UNRECOGNIZED_TOKEN.matcher(m)).lookingAt()) {
            what = "unexpected text " + quote(c.group(1));
        } else if ((c = CONTROL_CHAR.matcher(m)).lookingAt()) {
            what = "a control character (code " + c.group(1) + ") in a string must be escaped";
        } else if ((c = UNEXPECTED_CHAR.matcher(m)).lookingAt()) {
            what = "unexpected character " + character(Integer.parseInt(c.group(1))) + expectation(c.group(2));
        } else if (m.startsWith("Invalid numeric value") || m.startsWith("Non-standard token") || m.contains("numeric value")) {
            what = "an invalid number";
        } else if (m.startsWith("Unrecognized character escape")) {
            what = "an invalid escape sequence in a string";
        } else if (m.startsWith("Invalid UTF-8")) {
            what = "it is not valid UTF-8";
        } else {
            what = "it is malformed";
        }
        JsonLocation at = e.getLocation();
        if (at != null && at.getLineNr() > 0 && at.getColumnNr() > 0) {
            what += " at line " + at.getLineNr() + ", column " + at.getColumnNr();
        }
        return what;
    }

    /** What Jackson said it expected instead of an unexpected character, in our words. */
    private static String expectation(String rest) {
        if (rest.contains("numeric value")) return " in a number";
        if (rest.contains("comment")) return " (comments are not allowed in JSON)";
        if (rest.contains("double-quote to start field name")) return " where a field name in double quotes was expected";
        if (rest.contains("colon to separate")) return " where ':' was expected";
        if (rest.contains("comma to separate Object")) return " where ',' or '}' was expected";
        if (rest.contains("comma to separate Array")) return " where ',' or ']' was expected";
        if (rest.contains("expected a value") || rest.contains("expected a valid value")) return " where a value was expected";
        return "";
    }

    private static String character(int code) {
        if (code == '\'') return "\"'\"";
        if (code > 32 && code < 127) return "'" + (char) code + "'";
        return String.format(java.util.Locale.ROOT, "U+%04X", code);
    }

    private static String quote(String s) {
        return "'" + (s.length() > 40 ? s.substring(0, 40) + "…" : s) + "'";
    }

    /** The offset of the first byte that is not part of well-formed UTF-8, or -1. */
    static int firstInvalidUtf8(byte[] b) {
        CharsetDecoder d = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(b);
        CharBuffer out = CharBuffer.allocate(4096);
        while (true) {
            CoderResult r = d.decode(in, out, true);
            if (r.isError()) return in.position();
            if (r.isUnderflow()) break;
            out.clear();
        }
        out.clear();
        CoderResult r = d.flush(out);
        return r.isError() ? in.position() : -1;
    }

    /** A 400 "Unrecognized request argument supplied: NAME" for the first field of {@code o} not in {@code known}. */
    public static void requireKnown(ObjectNode o, java.util.Set<String> known) { JsonFields.requireKnown(o, known); }

    public static ObjectNode object() { return MAPPER.createObjectNode(); }

    public static byte[] bytes(JsonNode node) {
        try {
            return MAPPER.writeValueAsBytes(node);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A log-probability as JSON allows it: -Infinity (a token the model rules out) becomes -9999.0,
     * OpenAI's marker for "very unlikely"; NaN (not computed) is not expected here and also maps there.
     */
    public static double logprob(float lp) {
        return Float.isFinite(lp) ? lp : -9999.0;
    }
}
