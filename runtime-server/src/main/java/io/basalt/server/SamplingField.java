package io.basalt.server;

import io.basalt.api.Constraint;
import io.basalt.api.SamplingParams;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiConsumer;

/**
 * The one table from request fields to {@link SamplingParams}, shared by the three front ends:
 * OpenAI's JSON ({@code server.openai.SamplingRequest}), basalt.v1 Generate and KServe ModelInfer
 * parameters ({@code server.grpc}). Each front end reads its wire format into typed values under
 * these names ({@link SamplingValues}); what each value sets is written once, here. The names are
 * OpenAI's and vLLM's. Ranges are checked by {@link SamplingParams}, whose messages start with the
 * name ({@link #about}).
 */
public enum SamplingField {
    N("n", Type.INT, (b, v) -> b.n((Integer) v)),
    TEMPERATURE("temperature", Type.FLOAT, (b, v) -> b.temperature((Float) v)),
    TOP_P("top_p", Type.FLOAT, (b, v) -> b.topP((Float) v)),
    TOP_K("top_k", Type.INT, (b, v) -> b.topK((Integer) v)),
    MIN_P("min_p", Type.FLOAT, (b, v) -> b.minP((Float) v)),
    REPETITION_PENALTY("repetition_penalty", Type.FLOAT, (b, v) -> b.repetitionPenalty((Float) v)),
    PRESENCE_PENALTY("presence_penalty", Type.FLOAT, (b, v) -> b.presencePenalty((Float) v)),
    FREQUENCY_PENALTY("frequency_penalty", Type.FLOAT, (b, v) -> b.frequencyPenalty((Float) v)),
    LOGIT_BIAS("logit_bias", Type.TOKEN_BIAS, (b, v) -> b.logitBias(castBias(v))),
    SEED("seed", Type.LONG, (b, v) -> b.seed((Long) v)),
    STOP("stop", Type.STRINGS, (b, v) -> b.stop(castStrings(v))),
    STOP_TOKEN_IDS("stop_token_ids", Type.TOKEN_IDS, (b, v) -> b.stopTokenIds((int[]) v)),
    MAX_TOKENS("max_tokens", Type.INT, (b, v) -> b.maxTokens((Integer) v)),
    MIN_TOKENS("min_tokens", Type.INT, (b, v) -> b.minTokens((Integer) v)),
    IGNORE_EOS("ignore_eos", Type.BOOL, (b, v) -> b.ignoreEos((Boolean) v)),
    LOGPROBS("logprobs", Type.BOOL, (b, v) -> b.logprobs((Boolean) v)),
    TOP_LOGPROBS("top_logprobs", Type.INT, (b, v) -> b.topLogprobs((Integer) v)),
    /** OpenAI's response_format (json_object, json_schema), gRPC's json_schema / json_object; "text" is not given. */
    RESPONSE_FORMAT("response_format", Type.CONSTRAINT, (b, v) -> b.constraint((Constraint) v));

    /** The Java type a front end reads a field's value into. */
    public enum Type {
        INT(Integer.class), LONG(Long.class), FLOAT(Float.class), BOOL(Boolean.class),
        /** {@code List<String>} */
        STRINGS(List.class),
        /** {@code int[]} */
        TOKEN_IDS(int[].class),
        /** {@code Map<Integer, Float>}: token id → bias */
        TOKEN_BIAS(Map.class),
        /** {@link Constraint} */
        CONSTRAINT(Constraint.class);

        private final Class<?> javaType;

        Type(Class<?> javaType) { this.javaType = javaType; }

        boolean holds(Object value) { return javaType.isInstance(value); }
    }

    private final String key;
    private final Type type;
    private final BiConsumer<SamplingParams.Builder, Object> setter;

    SamplingField(String key, Type type, BiConsumer<SamplingParams.Builder, Object> setter) {
        this.key = key;
        this.type = type;
        this.setter = setter;
    }

    /** The request field's name. */
    public String key() { return key; }

    public Type type() { return type; }

    /** Sets {@code value} (of {@link #type()}, checked by {@link SamplingValues}) on {@code b}. */
    void set(SamplingParams.Builder b, Object value) { setter.accept(b, value); }

    /** The field named {@code key}, if the table has it. */
    public static Optional<SamplingField> byKey(String key) {
        for (SamplingField f : values()) if (f.key.equals(key)) return Optional.of(f);
        return Optional.empty();
    }

    /**
     * The field a {@link SamplingParams} validation message is about: its messages start with the
     * field's name, except those about stop token ids and stop strings, which say so in words.
     */
    public static Optional<SamplingField> about(String message) {
        if (message == null) return Optional.empty();
        // First the worded ones: "stop token ids ..." also starts with "stop ".
        if (message.startsWith("stop token ids")) return Optional.of(STOP_TOKEN_IDS);
        if (message.contains("stop strings")) return Optional.of(STOP);
        for (SamplingField f : values()) if (message.startsWith(f.key + " ")) return Optional.of(f);
        return Optional.empty();
    }

    @SuppressWarnings("unchecked")
    private static Map<Integer, Float> castBias(Object v) { return (Map<Integer, Float>) v; }

    @SuppressWarnings("unchecked")
    private static List<String> castStrings(Object v) { return (List<String>) v; }
}
