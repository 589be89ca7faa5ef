package io.basalt.server.grpc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import io.basalt.api.kserve.InferParameter;
import io.basalt.api.kserve.ModelInferRequest;
import io.basalt.server.openai.Json;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The input tensors of one ModelInfer request, decoded: {@code text_input} (BYTES [1]), and optionally
 * {@code sampling_parameters} (BYTES [1] holding a JSON object, as Triton's vLLM backend takes it),
 * {@code stream} (BOOL [1], false only) and {@code exclude_input_in_output} (BOOL [1]). Tensors may
 * come as typed {@code contents} or as {@code raw_input_contents}.
 *
 * @param text         the prompt
 * @param parameters   the sampling_parameters object, then the request's own parameters (which win), as given:
 *                     {@link KServeParameters} maps them
 * @param excludeInput whether the answer leaves the prompt out (the default)
 * @param raw          whether the request used raw contents (the answer then does too)
 */
record KServeInputs(String text, Map<String, Object> parameters, boolean excludeInput, boolean raw) {
    static final String TEXT_INPUT = "text_input";
    static final String SAMPLING_PARAMETERS = "sampling_parameters";
    static final String STREAM = "stream";
    static final String EXCLUDE_INPUT = "exclude_input_in_output";
    private static final ObjectMapper JSON = new ObjectMapper();

    KServeInputs {
        parameters = Collections.unmodifiableMap(new LinkedHashMap<>(parameters)); // keeps the order and the nulls
    }

    static KServeInputs parse(ModelInferRequest r) {
        boolean raw = r.getRawInputContentsCount() > 0;
        if (raw && r.getRawInputContentsCount() != r.getInputsCount()) {
            throw GrpcErrors.invalid("raw_input_contents has " + r.getRawInputContentsCount() + " entries for "
                    + r.getInputsCount() + " inputs");
        }
        String text = null;
        boolean excludeInput = true;
        Map<String, Object> params = new LinkedHashMap<>();
        for (int i = 0; i < r.getInputsCount(); i++) {
            ModelInferRequest.InferInputTensor t = r.getInputs(i);
            ByteString rawBytes = raw ? r.getRawInputContents(i) : null;
            switch (t.getName()) {
                case TEXT_INPUT -> text = bytesElement(t, rawBytes);
                case SAMPLING_PARAMETERS -> params.putAll(jsonObject(bytesElement(t, rawBytes)));
                case STREAM -> {
                    if (boolElement(t, rawBytes)) {
                        throw GrpcErrors.invalid("stream = true needs ModelStreamInfer, which this server does not offer; "
                                + "use basalt.v1.Inference/Generate for streaming");
                    }
                }
                case EXCLUDE_INPUT -> excludeInput = boolElement(t, rawBytes);
                default -> throw GrpcErrors.invalid("unknown input '" + t.getName() + "'; this model takes '" + TEXT_INPUT
                        + "' (BYTES [1]) and optionally '" + SAMPLING_PARAMETERS + "' (BYTES [1], JSON), '" + STREAM
                        + "' and '" + EXCLUDE_INPUT + "' (BOOL [1])");
            }
        }
        if (text == null) throw GrpcErrors.invalid("input '" + TEXT_INPUT + "' (BYTES, shape [1]) is required");
        // Request-level parameters win over the sampling_parameters input.
        for (Map.Entry<String, InferParameter> e : r.getParametersMap().entrySet()) params.put(e.getKey(), value(e.getValue()));
        return new KServeInputs(text, params, excludeInput, raw);
    }

    private static void checkOneElement(ModelInferRequest.InferInputTensor t, String datatype) {
        if (!t.getDatatype().equals(datatype)) {
            throw GrpcErrors.invalid("input '" + t.getName() + "' must have datatype " + datatype + ", got '" + t.getDatatype() + "'");
        }
        long elements = 1;
        for (long d : t.getShapeList()) elements *= d;
        if (t.getShapeCount() == 0 || elements != 1) {
            throw GrpcErrors.invalid("input '" + t.getName() + "' must have shape [1] (one element), got " + t.getShapeList());
        }
    }

    private static String bytesElement(ModelInferRequest.InferInputTensor t, ByteString raw) {
        checkOneElement(t, "BYTES");
        ByteString value;
        if (raw != null) {
            // One element: a 4-byte little-endian length, then the bytes.
            if (raw.size() < 4) throw GrpcErrors.invalid("raw contents of input '" + t.getName() + "' are shorter than 4 bytes");
            int len = raw.substring(0, 4).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).getInt();
            if (len < 0 || len != raw.size() - 4) {
                throw GrpcErrors.invalid("raw contents of input '" + t.getName() + "' declare " + len + " bytes but hold "
                        + (raw.size() - 4));
            }
            value = raw.substring(4);
        } else {
            if (t.getContents().getBytesContentsCount() != 1) {
                throw GrpcErrors.invalid("input '" + t.getName() + "' needs exactly one element in contents.bytes_contents, got "
                        + t.getContents().getBytesContentsCount());
            }
            value = t.getContents().getBytesContents(0);
        }
        if (!value.isValidUtf8()) throw GrpcErrors.invalid("input '" + t.getName() + "' is not valid UTF-8");
        return value.toStringUtf8();
    }

    private static boolean boolElement(ModelInferRequest.InferInputTensor t, ByteString raw) {
        checkOneElement(t, "BOOL");
        if (raw != null) {
            if (raw.size() != 1) throw GrpcErrors.invalid("raw contents of BOOL input '" + t.getName() + "' must be 1 byte");
            return raw.byteAt(0) != 0;
        }
        if (t.getContents().getBoolContentsCount() != 1) {
            throw GrpcErrors.invalid("input '" + t.getName() + "' needs exactly one element in contents.bool_contents");
        }
        return t.getContents().getBoolContents(0);
    }

    private static Map<String, Object> jsonObject(String json) {
        JsonNode node;
        try {
            node = JSON.readTree(json);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw GrpcErrors.invalid("input '" + SAMPLING_PARAMETERS + "' is not valid JSON: " + Json.describe(e));
        }
        if (node == null || !node.isObject()) throw GrpcErrors.invalid("input '" + SAMPLING_PARAMETERS + "' must be a JSON object");
        Map<String, Object> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode v = e.getValue();
            Object value;
            if (v.isBoolean()) value = v.booleanValue();
            else if (v.isIntegralNumber()) value = v.longValue();
            else if (v.isNumber()) value = v.doubleValue();
            else if (v.isTextual()) value = v.textValue();
            else if (v.isArray()) {
                List<String> strings = new ArrayList<>();
                for (JsonNode x : v) strings.add(x.asText());
                value = strings;
            } else if (v.isNull()) value = null; // not given, but the key is still checked
            else value = v.toString();
            out.put(e.getKey(), value);
        }
        return out;
    }

    private static Object value(InferParameter p) {
        return switch (p.getParameterChoiceCase()) {
            case BOOL_PARAM -> p.getBoolParam();
            case INT64_PARAM -> p.getInt64Param();
            case STRING_PARAM -> p.getStringParam();
            case DOUBLE_PARAM -> p.getDoubleParam();
            case UINT64_PARAM -> p.getUint64Param();
            case PARAMETERCHOICE_NOT_SET -> null;
        };
    }
}
