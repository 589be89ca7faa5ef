package io.basalt.api;

import java.util.Objects;

/**
 * What a constrained request's output must be (OpenAI's {@code response_format}); data only. The engine compiles it
 * into a grammar at submit and masks every step's logits with it (docs/STRUCTURED.md §2).
 */
public sealed interface Constraint {
    /** {@code {"type":"json_object"}}: any JSON object. */
    record JsonObject() implements Constraint { }

    /**
     * {@code {"type":"json_schema"}}: a value valid under the schema.
     *
     * @param schemaJson the JSON Schema, as JSON text
     * @param strict     OpenAI's {@code strict} flag (the grammar is exact either way; kept for the lint mode)
     */
    record JsonSchema(String schemaJson, boolean strict) implements Constraint {
        public JsonSchema {
            Objects.requireNonNull(schemaJson, "schemaJson");
            if (schemaJson.isBlank()) throw new IllegalArgumentException("response_format json_schema needs a schema");
        }
    }
}
