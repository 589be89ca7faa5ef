package io.basalt.api;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * What a constrained request's output must be (OpenAI's {@code response_format}, strict tools); data only. The engine
 * compiles it into a grammar at submit and masks the logits with it (docs/STRUCTURED.md §2).
 */
public sealed interface Constraint {
    /** {@code {"type":"json_object"}}: any JSON object. */
    record JsonObject() implements Constraint { }

    /**
     * {@code {"type":"json_schema"}}: a value valid under the schema.
     *
     * @param schemaJson the JSON Schema, as JSON text
     * @param strict     OpenAI's {@code strict} flag (the grammar is exact either way; kept for the lint mode)
     * @param compact    no whitespace between JSON tokens (tool-call arguments, as models write them); else a bounded run
     *                   of whitespace is allowed wherever JSON allows it (response_format)
     */
    record JsonSchema(String schemaJson, boolean strict, boolean compact) implements Constraint {
        public JsonSchema {
            Objects.requireNonNull(schemaJson, "schemaJson");
            if (schemaJson.isBlank()) throw new IllegalArgumentException("response_format json_schema needs a schema");
        }

        /** response_format's form: whitespace allowed. */
        public JsonSchema(String schemaJson, boolean strict) { this(schemaJson, strict, false); }
    }

    /**
     * A lazy constraint (strict tools under {@code tool_choice: auto}): free text, with JSON regions that open on a trigger.
     * <ul>
     * <li>Outside a region the choice is unconstrained: no mask, the stop ids end it as usual.
     * <li>A region opens right after the token that makes the choice's <em>generated</em> ids (never the prompt's) end with
     *     a tag's {@link Tag#trigger()}. Only ids generated since the last region closed (or since the start) count, so a
     *     trigger never borrows ids from a region or from the prompt. The first trigger to complete wins; when several
     *     complete at the same token (one is a suffix of the other), the longest wins.
     * <li>Inside a region the tag's schema masks every token (compact JSON: no whitespace between tokens); the stop ids are
     *     allowed only when the value so far is complete. A stop id there ends the choice as usual.
     * <li>When the value is complete and nothing else can follow, the region closes and generation is free again; the
     *     choice does not finish (unlike {@link JsonSchema}), and more regions may follow.
     * </ul>
     * Each tag's schema is compiled at submit; a schema the engine refuses fails the submit, naming the tag.
     *
     * @param tags at least one; no two with the same trigger
     */
    record Tagged(List<Tag> tags) implements Constraint {
        public Tagged {
            Objects.requireNonNull(tags, "tags");
            tags = List.copyOf(tags);   // also refuses null elements
            if (tags.isEmpty()) throw new IllegalArgumentException("a tagged constraint needs at least one tag");
            for (int i = 0; i < tags.size(); i++) {
                for (int j = 0; j < i; j++) {
                    if (Arrays.equals(tags.get(i).trigger, tags.get(j).trigger)) {
                        throw new IllegalArgumentException("tags " + j + " and " + i + " have the same trigger "
                                + Arrays.toString(tags.get(i).trigger));
                    }
                }
            }
        }
    }

    /**
     * One region kind of a {@link Tagged} constraint.
     *
     * @param trigger    the token ids whose generation opens a region (at least one; copied)
     * @param schemaJson the JSON Schema the region's value must satisfy, as JSON text
     * @param compact    no whitespace inside the value (harmony's arguments follow {@code <|message|>} directly); else a
     *                   bounded whitespace run is allowed wherever JSON allows it, the value's start included (a text
     *                   trigger such as {@code "arguments":} is followed by a space that byte-level BPE glues to the
     *                   value's first token)
     */
    record Tag(int[] trigger, String schemaJson, boolean compact) {
        public Tag {
            Objects.requireNonNull(trigger, "trigger");
            Objects.requireNonNull(schemaJson, "schemaJson");
            if (trigger.length == 0) throw new IllegalArgumentException("a tag's trigger needs at least one token id");
            if (schemaJson.isBlank()) throw new IllegalArgumentException("a tag needs a schema");
            trigger = trigger.clone();
        }

        /** A compact region. */
        public Tag(int[] trigger, String schemaJson) { this(trigger, schemaJson, true); }

        @Override public int[] trigger() { return trigger.clone(); }

        @Override public boolean equals(Object o) {
            return o instanceof Tag t && Arrays.equals(trigger, t.trigger) && schemaJson.equals(t.schemaJson) && compact == t.compact;
        }

        @Override public int hashCode() { return 31 * (31 * Arrays.hashCode(trigger) + schemaJson.hashCode()) + Boolean.hashCode(compact); }

        @Override public String toString() {
            return "Tag[trigger=" + Arrays.toString(trigger) + ", schemaJson=" + schemaJson + ", compact=" + compact + "]";
        }
    }
}
