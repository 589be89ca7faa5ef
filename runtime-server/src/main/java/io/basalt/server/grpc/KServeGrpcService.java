package io.basalt.server.grpc;

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
import io.basalt.server.SamplingField;
import io.basalt.server.SamplingValues;
import io.basalt.server.ServedModel;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

/**
 * The KServe v2 / Triton subset ({@code inference.GRPCInferenceService}): the model is a text
 * model with input {@code text_input} (BYTES [1]) and output {@code text_output} (BYTES [1], the
 * generated text). Sampling settings come from the request {@code parameters} map, or, as Triton's
 * vLLM backend takes them, from an optional {@code sampling_parameters} input holding a JSON object
 * ({@link KServeParameters}; unknown keys are refused); an optional BOOL input
 * {@code exclude_input_in_output} = false puts the prompt before the output ({@link KServeInputs}).
 * The response uses the same tensor form (typed or raw contents) as the request.
 */
final class KServeGrpcService extends GRPCInferenceServiceGrpc.GRPCInferenceServiceImplBase {
    static final String TEXT_OUTPUT = "text_output";
    static final String VERSION = "1";

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
                    .addInputs(tensor(KServeInputs.TEXT_INPUT, "BYTES"))
                    .addInputs(tensor(KServeInputs.SAMPLING_PARAMETERS, "BYTES"))
                    .addInputs(tensor(KServeInputs.STREAM, "BOOL"))
                    .addInputs(tensor(KServeInputs.EXCLUDE_INPUT, "BOOL"))
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
        KServeInputs in;
        int[] prompt;
        SamplingParams params;
        try {
            model = model(request.getModelName(), request.getModelVersion());
            for (ModelInferRequest.InferRequestedOutputTensor o : request.getOutputsList()) {
                if (!o.getName().equals(TEXT_OUTPUT)) {
                    throw GrpcErrors.invalid("unknown output '" + o.getName() + "'; this model has one output, '" + TEXT_OUTPUT + "'");
                }
            }
            in = KServeInputs.parse(request);
            prompt = model.encodePrompt(in.text());
            SamplingValues given = KServeParameters.sampling(in.parameters());
            params = given.toParams();
            GenerateRequests.checkContext(given.has(SamplingField.MAX_TOKENS), prompt.length, params.maxTokens(), model.contextLength());
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
            String text = in.excludeInput() ? choice.text() : in.text() + choice.text();
            try {
                out.onNext(response(request, model, in.raw(), text, choice.finishReason().openAiName(), result.numPromptTokens(),
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

}
