package io.basalt.server.grpc;

import io.basalt.server.SamplingField;
import io.basalt.server.SamplingValues;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A ModelInfer request's parameters (its {@code parameters} map and the {@code sampling_parameters}
 * JSON input) → {@link SamplingValues}, through the shared {@link SamplingField} table. Values may
 * come typed or, as Triton's vLLM backend examples send them, as strings ("0.7"). A key this server
 * does not know is refused (INVALID_ARGUMENT naming it), never ignored: a typo would otherwise
 * silently sample with the defaults.
 */
final class KServeParameters {
    private KServeParameters() {}

    /**
     * The table's fields ModelInfer takes. Not n, logprobs or top_logprobs: the answer is one
     * text_output; not logit_bias, which has no KServe spelling.
     */
    static final Set<SamplingField> FIELDS = EnumSet.of(SamplingField.TEMPERATURE, SamplingField.TOP_P, SamplingField.TOP_K,
            SamplingField.MIN_P, SamplingField.REPETITION_PENALTY, SamplingField.PRESENCE_PENALTY, SamplingField.FREQUENCY_PENALTY,
            SamplingField.SEED, SamplingField.STOP, SamplingField.STOP_TOKEN_IDS, SamplingField.MAX_TOKENS, SamplingField.MIN_TOKENS,
            SamplingField.IGNORE_EOS);

    /**
     * Triton's reserved request parameters (its scheduler's priority and timeout, the sequence
     * batcher's ids, forwarded headers, and every {@code triton_} key): Triton clients send them,
     * and this server, which has none of those mechanisms, accepts and ignores them.
     */
    static final Set<String> TRITON_RESERVED = Set.of("sequence_id", "sequence_start", "sequence_end", "priority", "timeout",
            "headers");
    static final String TRITON_PREFIX = "triton_";

    /** The sampling values {@code parameters} give (null values: not given); unknown keys throw IllegalArgumentException. */
    static SamplingValues sampling(Map<String, Object> parameters) {
        Map<SamplingField, Object> values = new EnumMap<>(SamplingField.class);
        List<String> refused = new ArrayList<>();
        for (Map.Entry<String, Object> e : parameters.entrySet()) {
            String key = e.getKey();
            SamplingField field = SamplingField.byKey(key).filter(FIELDS::contains).orElse(null);
            if (field != null) {
                if (e.getValue() != null) values.put(field, convert(field, e.getValue()));
            } else if (!TRITON_RESERVED.contains(key) && !key.startsWith(TRITON_PREFIX)) {
                refused.add(key);
            }
        }
        if (!refused.isEmpty()) {
            throw new IllegalArgumentException((refused.size() == 1 ? "unknown parameter " : "unknown parameters ")
                    + refused.stream().map(k -> "'" + k + "'").collect(Collectors.joining(", ")) + "; ModelInfer takes "
                    + FIELDS.stream().map(SamplingField::key).collect(Collectors.joining(", "))
                    + " (and accepts Triton's reserved " + String.join(", ", TRITON_RESERVED.stream().sorted().toList())
                    + " and " + TRITON_PREFIX + "* keys, which it ignores)");
        }
        return new SamplingValues(values);
    }

    /** {@code v} as the table's type for {@code field}: stop may be one string or a list. */
    private static Object convert(SamplingField field, Object v) {
        String key = field.key();
        return switch (field.type()) {
            case INT -> intValue(key, v);
            case LONG -> longValue(key, v);
            case FLOAT -> floatValue(key, v);
            case BOOL -> boolValue(key, v);
            case STRINGS -> v instanceof List<?> l ? l.stream().map(String::valueOf).toList() : List.of(stringValue(key, v));
            case TOKEN_IDS -> {
                if (!(v instanceof List<?> l)) throw new IllegalArgumentException("parameter '" + key + "' must be a JSON list");
                yield l.stream().mapToInt(x -> intValue(key, x)).toArray();
            }
            case TOKEN_BIAS, CONSTRAINT -> throw new IllegalArgumentException("parameter '" + key + "' is not supported by ModelInfer");
        };
    }

    private static long longValue(String key, Object v) {
        return switch (v) {
            case Long l -> l;
            case Double d when d == Math.rint(d) && !d.isInfinite() -> d.longValue();
            case String s -> {
                try {
                    yield Long.parseLong(s.trim());
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("parameter '" + key + "' must be an integer, got '" + s + "'");
                }
            }
            default -> throw new IllegalArgumentException("parameter '" + key + "' must be an integer, got " + v);
        };
    }

    private static int intValue(String key, Object v) {
        long l = longValue(key, v);
        if (l < Integer.MIN_VALUE || l > Integer.MAX_VALUE) throw new IllegalArgumentException("parameter '" + key + "' is out of range: " + l);
        return (int) l;
    }

    private static float floatValue(String key, Object v) {
        return switch (v) {
            case Long l -> l;
            case Double d -> d.floatValue();
            case String s -> {
                try {
                    yield Float.parseFloat(s.trim());
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("parameter '" + key + "' must be a number, got '" + s + "'");
                }
            }
            default -> throw new IllegalArgumentException("parameter '" + key + "' must be a number, got " + v);
        };
    }

    private static boolean boolValue(String key, Object v) {
        return switch (v) {
            case Boolean b -> b;
            case String s when s.equalsIgnoreCase("true") || s.equalsIgnoreCase("false") -> Boolean.parseBoolean(s);
            default -> throw new IllegalArgumentException("parameter '" + key + "' must be a boolean, got " + v);
        };
    }

    private static String stringValue(String key, Object v) {
        if (v instanceof String s) return s;
        throw new IllegalArgumentException("parameter '" + key + "' must be a string, got " + v);
    }
}
