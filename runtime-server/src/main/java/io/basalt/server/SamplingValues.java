package io.basalt.server;

import io.basalt.api.SamplingParams;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * The sampling fields a request gave, typed by {@link SamplingField#type()}; a field it did not give
 * keeps {@link SamplingParams.Builder}'s default (OpenAI's). Built by a front end from its wire
 * format, turned into parameters by {@link #toParams()}.
 */
public record SamplingValues(Map<SamplingField, Object> given) {
    public static final SamplingValues NONE = new SamplingValues(Map.of());

    public SamplingValues {
        EnumMap<SamplingField, Object> copy = new EnumMap<>(SamplingField.class);
        for (Map.Entry<SamplingField, Object> e : given.entrySet()) copy.put(e.getKey(), checked(e.getKey(), e.getValue()));
        given = Collections.unmodifiableMap(copy);
    }

    /**
     * What {@code reader} gives for each of {@code fields} (null: not given), read in the table's
     * order, so that of several bad fields the same one is reported first.
     */
    public static SamplingValues read(Set<SamplingField> fields, Function<SamplingField, Object> reader) {
        EnumMap<SamplingField, Object> values = new EnumMap<>(SamplingField.class);
        for (SamplingField f : SamplingField.values()) {
            if (!fields.contains(f)) continue;
            Object v = reader.apply(f);
            if (v != null) values.put(f, v);
        }
        return new SamplingValues(values);
    }

    /** A copy with {@code field} set to {@code value} (of the field's type), or not given when {@code value} is null. */
    public SamplingValues with(SamplingField field, Object value) {
        EnumMap<SamplingField, Object> next = new EnumMap<>(SamplingField.class);
        next.putAll(given);
        if (value == null) next.remove(field);
        else next.put(field, value);
        return new SamplingValues(next);
    }

    public boolean has(SamplingField field) { return given.containsKey(field); }

    /** The value of an {@link SamplingField.Type#INT} field, or null when not given. */
    public Integer integer(SamplingField field) {
        if (field.type() != SamplingField.Type.INT) throw new IllegalArgumentException(field + " is not an INT field");
        return (Integer) given.get(field);
    }

    /** The parameters; {@link SamplingParams}' checks throw IllegalArgumentException naming the field. */
    public SamplingParams toParams() {
        SamplingParams.Builder b = SamplingParams.builder();
        for (Map.Entry<SamplingField, Object> e : given.entrySet()) e.getKey().set(b, e.getValue());
        return b.build();
    }

    private static Object checked(SamplingField field, Object value) {
        boolean ok = field.type().holds(value) && switch (field.type()) {
            case STRINGS -> ((List<?>) value).stream().allMatch(s -> s instanceof String);
            case TOKEN_BIAS -> ((Map<?, ?>) value).entrySet().stream()
                    .allMatch(e -> e.getKey() instanceof Integer && e.getValue() instanceof Float);
            case INT, LONG, FLOAT, BOOL, TOKEN_IDS, CONSTRAINT -> true;
        };
        if (!ok) {
            throw new IllegalArgumentException(field + " takes a " + field.type() + " value, got "
                    + (value == null ? "null" : value.getClass().getSimpleName()));
        }
        // Lists, maps and arrays are copied: the values stay as given.
        return switch (value) {
            case List<?> l -> List.copyOf(l);
            case Map<?, ?> m -> Map.copyOf(m);
            case int[] a -> a.clone();
            default -> value;
        };
    }
}
