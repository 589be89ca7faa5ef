package io.basalt.server.openai;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The one Jackson mapper of the OpenAI layer. Reading is bounded: at most {@value #MAX_DEPTH} levels
 * of nesting (a body of 100,000 '[' would otherwise recurse), numbers of at most 100 digits, and
 * trailing garbage after the JSON value is an error.
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
        JsonNode node;
        try {
            node = MAPPER.readTree(body);
        } catch (IOException e) {
            throw OpenAiException.invalid(null, "The request body is not valid JSON: " + shortMessage(e));
        }
        if (node == null || node.isMissingNode()) throw OpenAiException.invalid(null, "The request body is empty; expected a JSON object");
        if (!node.isObject()) throw OpenAiException.invalid(null, "The request body must be a JSON object");
        return (ObjectNode) node;
    }

    /** Jackson's message without the source excerpt and location lines (which can echo megabytes). */
    private static String shortMessage(IOException e) {
        String m = e instanceof com.fasterxml.jackson.core.JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
        if (m == null) return e.getClass().getSimpleName();
        return m.length() > 300 ? m.substring(0, 300) + "…" : m;
    }

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
