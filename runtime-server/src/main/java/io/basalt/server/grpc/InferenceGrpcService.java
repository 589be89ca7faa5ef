package io.basalt.server.grpc;

import io.basalt.api.SamplingParams;
import io.basalt.api.grpc.GenerateRequest;
import io.basalt.api.grpc.GenerateResponse;
import io.basalt.api.grpc.InferenceGrpc;
import io.basalt.api.grpc.ListModelsRequest;
import io.basalt.api.grpc.ListModelsResponse;
import io.basalt.api.grpc.ModelCard;
import io.basalt.api.grpc.TokenizeRequest;
import io.basalt.api.grpc.TokenizeResponse;
import io.basalt.frontend.ModelTokenizer;
import io.basalt.server.InferenceService;
import io.basalt.server.ServedModel;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;

/** {@code basalt.v1.Inference}: every generation goes through {@link InferenceService#submit}. */
final class InferenceGrpcService extends InferenceGrpc.InferenceImplBase {
    private final InferenceService service;
    private final Executor streamExecutor;
    /** Request ids of this service's calls in flight: a second call with the same id is refused. */
    private final Set<String> activeIds = ConcurrentHashMap.newKeySet();

    InferenceGrpcService(InferenceService service, Executor streamExecutor) {
        this.service = service;
        this.streamExecutor = streamExecutor;
    }

    @Override
    public void generate(GenerateRequest request, StreamObserver<GenerateResponse> observer) {
        ServerCallStreamObserver<GenerateResponse> out = (ServerCallStreamObserver<GenerateResponse>) observer;
        ServedModel model;
        int[] prompt;
        SamplingParams params;
        try {
            model = GrpcErrors.resolve(service.model(), request.getModel());
            prompt = GenerateRequests.prompt(model, request);
            params = GenerateRequests.sampling(request);
            GenerateRequests.checkContext(request.hasMaxTokens(), prompt.length, params.maxTokens(), model.contextLength());
        } catch (RuntimeException e) {
            out.onError(GrpcErrors.toStatus(e));
            return;
        }
        String requestId = request.getRequestId().isEmpty() ? "grpc-" + UUID.randomUUID() : request.getRequestId();
        if (!activeIds.add(requestId)) {
            out.onError(Status.ALREADY_EXISTS.withDescription("request_id '" + requestId + "' is already in flight")
                    .asRuntimeException());
            return;
        }
        GenerateStream stream = new GenerateStream(out, service, requestId, params, streamExecutor,
                () -> activeIds.remove(requestId));
        stream.start(prompt, params, request.getPriority());
    }

    @Override
    public void tokenize(TokenizeRequest request, StreamObserver<TokenizeResponse> out) {
        try {
            ServedModel model = GrpcErrors.resolve(service.model(), request.getModel());
            int[] ids = ModelTokenizer.tokenizePrompt(model.info(), model.tokenizer(), request.getText());
            TokenizeResponse.Builder b = TokenizeResponse.newBuilder().setCount(ids.length).setMaxModelLen(model.contextLength());
            for (int id : ids) b.addTokenIds(id);
            out.onNext(b.build());
            out.onCompleted();
        } catch (RuntimeException e) {
            out.onError(GrpcErrors.toStatus(e));
        }
    }

    @Override
    public void listModels(ListModelsRequest request, StreamObserver<ListModelsResponse> out) {
        ServedModel m = service.model();
        ModelCard card = ModelCard.newBuilder().setId(m.id()).addAllAliases(m.names().subList(1, m.names().size()))
                .setOwnedBy("basalt").setCreated(m.createdEpochSeconds()).setMaxModelLen(m.contextLength())
                .setArchitecture(m.info().architecture().name()).setVocabSize(m.info().vocabSize()).build();
        out.onNext(ListModelsResponse.newBuilder().addModels(card).build());
        out.onCompleted();
    }
}
