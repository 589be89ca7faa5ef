package io.basalt.server.grpc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import io.basalt.api.SamplingParams;
import io.basalt.api.kserve.GRPCInferenceServiceGrpc;
import io.basalt.api.kserve.InferParameter;
import io.basalt.api.kserve.InferTensorContents;
import io.basalt.api.kserve.ModelInferRequest;
import io.basalt.api.kserve.ModelInferResponse;
import io.basalt.api.kserve.ModelMetadataRequest;
import io.basalt.api.kserve.ModelMetadataResponse;
import io.basalt.api.kserve.ModelReadyRequest;
import io.basalt.api.kserve.ModelReadyResponse;
import io.basalt.api.kserve.ServerLiveRequest;
import io.basalt.api.kserve.ServerLiveResponse;
import io.basalt.api.kserve.ServerReadyRequest;
import io.basalt.api.kserve.ServerReadyResponse;
import io.basalt.engine.RequestHandle;
import io.basalt.server.InferenceService;
import io.basalt.server.ServedModel;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

/**
 * The KServe v2 / Triton subset ({@code inference.GRPCInferenceService}): the model is a text
 * model with input {@code text_input} (BYTES [1]) and output {@code text_output} (BYTES [1], the
 * generated text). Sampling settings come from the request {@code parameters} map, or, as Triton's
 * vLLM backend takes them, from an optional {@code sampling_parameters} input holding a JSON object;
 * an optional BOOL input {@code exclude_input_in_output} = false puts the prompt before the output.
 * Tensors may come as typed {@code contents} or as {@code raw_input_contents}; the response uses
 * the same form as the request.
 */
final class KServeGrpcService extends GRPCInferenceServiceGrpc.GRPCInferenceServiceImplBase {
    static final String TEXT_INPUT = "text_input";
    static final String TEXT_OUTPUT = "text_output";
    static final String SAMPLING_PARAMETERS = "sampling_parameters";
    static final String STREAM = "stream";
    static final String EXCLUDE_INPUT = "exclude_input_in_output";
    static final String VERSION = "1";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final InferenceService service;
    private final Executor executor;
    private final BooleanSupplier ready;

    /** @param ready whether the server is accepting inference (false while draining or closing) */
    KServeGrpcService(InferenceService service, Executor executor, BooleanSupplier ready) {
        this.service = service;
        this.executor = executor;
        this.ready = ready;
    }

    @Override
    public void serverLive(ServerLiveRequest request, StreamObserver<ServerLiveResponse> out) {
        out.onNext(ServerLiveResponse.newBuilder().setLive(true).build());
        out.onCompleted();
    }

    @Override
    public void serverReady(ServerReadyRequest request, StreamObserver<ServerReadyResponse> out) {
        out.onNext(ServerReadyResponse.newBuilder().setReady(ready.getAsBoolean()).build());
        out.onCompleted();
    }

    @Override
    public void modelReady(ModelReadyRequest request, StreamObserver<ModelReadyResponse> out) {
        boolean known = service.model().answersTo(request.getName()) && versionOk(request.getVersion());
        out.onNext(ModelReadyResponse.newBuilder().setReady(known && ready.getAsBoolean()).build());
        out.onCompleted();
    }

    @Override
    public void modelMetadata(ModelMetadataRequest request, StreamObserver<ModelMetadataResponse> out) {
        try {
            ServedModel model = model(request.getName(), request.getVersion());
            out.onNext(ModelMetadataResponse.newBuilder().setName(model.id()).addVersions(VERSION).setPlatform("basalt")
                    .addInputs(tensor(TEXT_INPUT, "BYTES"))
                    .addInputs(tensor(SAMPLING_PARAMETERS, "BYTES"))
                    .addInputs(tensor(STREAM, "BOOL"))
                    .addInputs(tensor(EXCLUDE_INPUT, "BOOL"))
                    .addOutputs(tensor(TEXT_OUTPUT, "BYTES"))
                    .build());
            out.onCompleted();
        } catch (RuntimeException e) {
            out.onError(GrpcErrors.toStatus(e));
        }
    }

    private static ModelMetadataResponse.TensorMetadata tensor(String name, String datatype) {
        return ModelMetadataResponse.TensorMetadata.newBuilder().setName(name).setDatatype(datatype).addShape(1).build();
    }

    @Override
    public void modelInfer(ModelInferRequest request, StreamObserver<ModelInferResponse> observer) {
        ServerCallStreamObserver<ModelInferResponse> out = (ServerCallStreamObserver<ModelInferResponse>) observer;
        ServedModel model;
        Inputs in;
        int[] prompt;
        SamplingParams params;
        try {
            model = model(request.getModelName(), request.getModelVersion());
            for (ModelInferRequest.InferRequestedOutputTensor o : request.getOutputsList()) {
                if (!o.getName().equals(TEXT_OUTPUT)) {
                    throw GrpcErrors.invalid("unknown output '" + o.getName() + "'; this model has one output, '" + TEXT_OUTPUT + "'");
                }
            }
            in = Inputs.parse(request);
            prompt = model.encodePrompt(in.text);
            params = sampling(in.parameters);
            GenerateRequests.checkContext(in.parameters.get("max_tokens") != null, prompt.length, params.maxTokens(), model.contextLength());
        } catch (RuntimeException e) {
            out.onError(GrpcErrors.toStatus(e));
            return;
        }
        String requestId = "kserve-" + UUID.randomUUID();
        AtomicBoolean aborted = new AtomicBoolean();
        AtomicBoolean submitted = new AtomicBoolean();
        AtomicBoolean cancelled = new AtomicBoolean();
        Runnable abortOnce = () -> {
            if (submitted.get() && cancelled.get() && aborted.compareAndSet(false, true)) service.abort(requestId);
        };
        out.setOnCancelHandler(() -> {
            cancelled.set(true);
            abortOnce.run();
        });
        RequestHandle handle;
        try {
            handle = service.submit(requestId, prompt, params, 0, e -> { });
        } catch (RuntimeException e) {
            out.onError(GrpcErrors.toStatus(e));
            return;
        }
        submitted.set(true);
        abortOnce.run();
        // The future completes on the engine thread: answer from the executor.
        handle.result().whenCompleteAsync((result, error) -> {
            if (cancelled.get()) return;
            if (error != null) {
                out.onError(GrpcErrors.toStatus(error));
                return;
            }
            RequestHandle.Choice choice = result.choices().getFirst();
            if (choice.error() != null) {
                out.onError(GrpcErrors.engineFailure(choice.error()));
                return;
            }
            String text = in.excludeInput ? choice.text() : in.text + choice.text();
            try {
                out.onNext(response(request, model, in.raw, text, choice.finishReason().openAiName(), result.numPromptTokens(),
                        result.numGeneratedTokens()));
                out.onCompleted();
            } catch (RuntimeException e) {
                // The client went away between the check above and the answer: nothing to tell it.
            }
        }, executor);
    }

    private static ModelInferResponse response(ModelInferRequest request, ServedModel model, boolean raw, String text,
                                               String finishReason, int promptTokens, int completionTokens) {
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        ModelInferResponse.InferOutputTensor.Builder t = ModelInferResponse.InferOutputTensor.newBuilder()
                .setName(TEXT_OUTPUT).setDatatype("BYTES").addShape(1);
        ModelInferResponse.Builder b = ModelInferResponse.newBuilder()
                .setModelName(request.getModelName().isEmpty() ? model.id() : request.getModelName())
                .setModelVersion(VERSION).setId(request.getId())
                .putParameters("finish_reason", InferParameter.newBuilder().setStringParam(finishReason).build())
                .putParameters("prompt_tokens", InferParameter.newBuilder().setInt64Param(promptTokens).build())
                .putParameters("completion_tokens", InferParameter.newBuilder().setInt64Param(completionTokens).build());
        if (raw) {
            ByteBuffer buf = ByteBuffer.allocate(4 + utf8.length).order(ByteOrder.LITTLE_ENDIAN).putInt(utf8.length).put(utf8);
            b.addOutputs(t).addRawOutputContents(ByteString.copyFrom(buf.array()));
        } else {
            b.addOutputs(t.setContents(InferTensorContents.newBuilder().addBytesContents(ByteString.copyFrom(utf8))));
        }
        return b.build();
    }

    private static boolean versionOk(String version) { return version.isEmpty() || version.equals(VERSION); }

    private ServedModel model(String name, String version) {
        if (name.isEmpty()) throw GrpcErrors.invalid("the model name is empty; this server serves '" + service.model().id() + "'");
        ServedModel model = GrpcErrors.resolve(service.model(), name);
        if (!versionOk(version)) {
            throw Status.NOT_FOUND.withDescription("model '" + name + "' has no version '" + version + "'; the only version is '"
                    + VERSION + "'").asRuntimeException();
        }
        return model;
    }

    /** The inputs of one request, decoded. */
    private record Inputs(String text, Map<String, Object> parameters, boolean excludeInput, boolean raw) {
        static Inputs parse(ModelInferRequest r) {
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
            return new Inputs(text, params, excludeInput, raw);
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
                throw GrpcErrors.invalid("input '" + SAMPLING_PARAMETERS + "' is not valid JSON: " + io.basalt.server.openai.Json.describe(e));
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
                } else if (v.isNull()) continue;
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

    /**
     * Known keys: max_tokens, min_tokens, temperature, top_p, top_k, min_p, seed, repetition_penalty,
     * presence_penalty, frequency_penalty, ignore_eos, stop (a string or, from JSON, a list) and
     * stop_token_ids. Other keys (Triton's priority, timeout, sequence ids, ...) are ignored.
     */
    static SamplingParams sampling(Map<String, Object> p) {
        SamplingParams.Builder b = SamplingParams.builder();
        for (Map.Entry<String, Object> e : p.entrySet()) {
            String k = e.getKey();
            Object v = e.getValue();
            if (v == null) continue;
            switch (k) {
                case "max_tokens" -> b.maxTokens(intValue(k, v));
                case "min_tokens" -> b.minTokens(intValue(k, v));
                case "top_k" -> b.topK(intValue(k, v));
                case "seed" -> b.seed(longValue(k, v));
                case "temperature" -> b.temperature(floatValue(k, v));
                case "top_p" -> b.topP(floatValue(k, v));
                case "min_p" -> b.minP(floatValue(k, v));
                case "repetition_penalty" -> b.repetitionPenalty(floatValue(k, v));
                case "presence_penalty" -> b.presencePenalty(floatValue(k, v));
                case "frequency_penalty" -> b.frequencyPenalty(floatValue(k, v));
                case "ignore_eos" -> b.ignoreEos(boolValue(k, v));
                case "stop" -> b.stop(v instanceof List<?> l ? l.stream().map(String::valueOf).toList() : List.of(stringValue(k, v)));
                case "stop_token_ids" -> {
                    if (!(v instanceof List<?> l)) throw new IllegalArgumentException("parameter 'stop_token_ids' must be a JSON list");
                    b.stopTokenIds(l.stream().mapToInt(x -> intValue(k, x)).toArray());
                }
                default -> { }
            }
        }
        return b.build();
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
