package io.basalt.structured;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.TextNode;

import java.util.Arrays;

/** Compact JSON text, as the grammar emits literals and keys. */
final class Json {
    static final ObjectMapper MAPPER = new ObjectMapper();

    private Json() {}

    static byte[] compact(JsonNode node) {
        try {
            return MAPPER.writeValueAsBytes(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A property name's JSON string body and the closing quote (the opening quote is already consumed). */
    static byte[] keyBytes(String name) {
        byte[] quoted = compact(TextNode.valueOf(name));
        return Arrays.copyOfRange(quoted, 1, quoted.length);
    }
}
