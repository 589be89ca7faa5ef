package io.basalt.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.api.SamplingParams;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The table from request fields to SamplingParams that every front end shares. */
class SamplingFieldTest {
    /** A value for every field that differs from SamplingParams' default. */
    static Map<SamplingField, Object> everyField() {
        Map<SamplingField, Object> v = new EnumMap<>(SamplingField.class);
        for (SamplingField f : SamplingField.values()) {
            v.put(f, switch (f) {
                case N -> 3;
                case TEMPERATURE -> 0.5f;
                case TOP_P -> 0.9f;
                case TOP_K -> 7;
                case MIN_P -> 0.05f;
                case REPETITION_PENALTY -> 1.3f;
                case PRESENCE_PENALTY -> 0.4f;
                case FREQUENCY_PENALTY -> -0.2f;
                case LOGIT_BIAS -> Map.of(5, -100f, 9, 2.5f);
                case SEED -> -11L;
                case STOP -> List.of("x", "yz");
                case STOP_TOKEN_IDS -> new int[] {3, 4};
                case MAX_TOKENS -> 33;
                case MIN_TOKENS -> 2;
                case IGNORE_EOS -> true;
                case LOGPROBS -> true;
                case TOP_LOGPROBS -> 4;
                case RESPONSE_FORMAT -> new io.basalt.api.Constraint.JsonSchema("{\"type\":\"object\"}", true);
            });
        }
        return v;
    }

    @Test
    void everyFieldSetsItsParameter() {
        SamplingParams p = new SamplingValues(everyField()).toParams();
        assertEquals(3, p.n());
        assertEquals(0.5f, p.temperature());
        assertEquals(0.9f, p.topP());
        assertEquals(7, p.topK());
        assertEquals(0.05f, p.minP());
        assertEquals(1.3f, p.repetitionPenalty());
        assertEquals(0.4f, p.presencePenalty());
        assertEquals(-0.2f, p.frequencyPenalty());
        assertEquals(Map.of(5, -100f, 9, 2.5f), p.logitBias());
        assertEquals(-11L, p.seed());
        assertEquals(List.of("x", "yz"), p.stop());
        assertArrayEquals(new int[] {3, 4}, p.stopTokenIds());
        assertEquals(33, p.maxTokens());
        assertEquals(2, p.minTokens());
        assertTrue(p.ignoreEos());
        assertTrue(p.logprobs());
        assertEquals(4, p.topLogprobs());
        assertEquals(Optional.of(new io.basalt.api.Constraint.JsonSchema("{\"type\":\"object\"}", true)), p.constraint());
    }

    @Test
    void fieldsNotGivenKeepTheDefaults() {
        SamplingParams given = SamplingValues.NONE.with(SamplingField.TEMPERATURE, 0f).toParams();
        SamplingParams defaults = SamplingParams.builder().temperature(0f).build();
        assertEquals(defaults.maxTokens(), given.maxTokens());
        assertEquals(defaults.topP(), given.topP());
        assertEquals(defaults.n(), given.n());
        assertFalse(SamplingValues.NONE.with(SamplingField.N, 2).with(SamplingField.N, null).has(SamplingField.N));
    }

    @Test
    void keysAreTheRequestFieldNamesAndUnique() {
        assertEquals(Optional.of(SamplingField.MAX_TOKENS), SamplingField.byKey("max_tokens"));
        assertEquals(Optional.of(SamplingField.STOP_TOKEN_IDS), SamplingField.byKey("stop_token_ids"));
        assertEquals(Optional.empty(), SamplingField.byKey("max_token"));
        for (SamplingField f : SamplingField.values()) assertEquals(Optional.of(f), SamplingField.byKey(f.key()));
    }

    @Test
    void aValueOfTheWrongTypeIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> SamplingValues.NONE.with(SamplingField.TEMPERATURE, 0.5));  // a Double
        assertThrows(IllegalArgumentException.class, () -> SamplingValues.NONE.with(SamplingField.STOP, List.of(1)));
        assertThrows(IllegalArgumentException.class, () -> SamplingValues.NONE.with(SamplingField.LOGIT_BIAS, Map.of("1", 1f)));
        assertThrows(IllegalArgumentException.class, () -> SamplingValues.NONE.integer(SamplingField.SEED));
    }

    @Test
    void everyValidationMessageNamesItsField() {
        // One bad value per field that SamplingParams checks; the message must lead back to the field.
        Map<SamplingField, Object> bad = new EnumMap<>(SamplingField.class);
        bad.put(SamplingField.N, 0);
        bad.put(SamplingField.TEMPERATURE, -1f);
        bad.put(SamplingField.TOP_P, 0f);
        bad.put(SamplingField.TOP_K, -2);
        bad.put(SamplingField.MIN_P, 2f);
        bad.put(SamplingField.REPETITION_PENALTY, 0f);
        bad.put(SamplingField.PRESENCE_PENALTY, 3f);
        bad.put(SamplingField.FREQUENCY_PENALTY, -3f);
        bad.put(SamplingField.LOGIT_BIAS, Map.of(1, 101f));
        bad.put(SamplingField.STOP, List.of(""));
        bad.put(SamplingField.STOP_TOKEN_IDS, new int[] {-1});
        bad.put(SamplingField.MAX_TOKENS, 0);
        bad.put(SamplingField.MIN_TOKENS, -1);
        bad.put(SamplingField.TOP_LOGPROBS, 21);
        for (Map.Entry<SamplingField, Object> e : bad.entrySet()) {
            IllegalArgumentException x = assertThrows(IllegalArgumentException.class,
                    () -> SamplingValues.NONE.with(e.getKey(), e.getValue()).toParams(), e.getKey().toString());
            assertEquals(Optional.of(e.getKey()), SamplingField.about(x.getMessage()), x.getMessage());
        }
        List<String> many = java.util.Collections.nCopies(SamplingParams.MAX_STOP_STRINGS + 1, "s");
        IllegalArgumentException x = assertThrows(IllegalArgumentException.class,
                () -> SamplingValues.NONE.with(SamplingField.STOP, many).toParams());
        assertEquals(Optional.of(SamplingField.STOP), SamplingField.about(x.getMessage()), x.getMessage());
        // The fields without a range (a seed, a flag) have no message to name; a schema is checked when the engine compiles it.
        assertEquals(EnumSet.of(SamplingField.SEED, SamplingField.IGNORE_EOS, SamplingField.LOGPROBS, SamplingField.RESPONSE_FORMAT),
                EnumSet.complementOf(EnumSet.copyOf(bad.keySet())));
    }
}
