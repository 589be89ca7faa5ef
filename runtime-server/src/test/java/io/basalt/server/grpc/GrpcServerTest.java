package io.basalt.server.grpc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.basalt.api.SamplingParams;
import io.basalt.api.grpc.GenerateRequest;
import io.basalt.api.grpc.GenerateResponse;
import io.basalt.api.grpc.ListModelsRequest;
import io.basalt.api.grpc.ListModelsResponse;
import io.basalt.api.grpc.TokenIds;
import io.basalt.api.grpc.TokenizeRequest;
import io.basalt.api.grpc.TokenizeResponse;
import io.basalt.api.kserve.InferParameter;
import io.basalt.api.kserve.InferTensorContents;
import io.basalt.api.kserve.ModelInferRequest;
import io.basalt.api.kserve.ModelInferResponse;
import io.basalt.api.kserve.ModelMetadataRequest;
import io.basalt.api.kserve.ModelMetadataResponse;
import io.basalt.api.kserve.ModelReadyRequest;
import io.basalt.api.kserve.ServerLiveRequest;
import io.basalt.api.kserve.ServerReadyRequest;
import io.basalt.engine.EngineRequest;
import io.basalt.engine.EngineStats;
import io.basalt.engine.RequestHandle;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.reflection.v1.ServiceResponse;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The gRPC server end to end over 127.0.0.1, with stories260K behind it. */
class GrpcServerTest {
    static final String PROMPT = "Once upon a time";
    static GrpcFixture f;

    @BeforeAll
    static void start() { f = new GrpcFixture(64, ""); }

    @AfterAll
    static void stop() { f.close(); }

    @AfterEach
    void fullSpeed() { f.stepDelay(Duration.ZERO); }

    static GenerateRequest.Builder greedy(int maxTokens) {
        return GenerateRequest.newBuilder().setModel(GrpcFixture.MODEL).setText(PROMPT).setTemperature(0f).setMaxTokens(maxTokens);
    }

    static RequestHandle.Result direct(int[] prompt, SamplingParams params) throws Exception {
        return f.engine.submit(new EngineRequest("direct-" + System.nanoTime(), prompt, params, 0)).result().get(20, TimeUnit.SECONDS);
    }

    static Status.Code code(Runnable call) {
        return assertThrows(StatusRuntimeException.class, call::run).getStatus().getCode();
    }

    @Test
    void generateStreamsTheEnginesGreedyText() throws Exception {
        List<GenerateResponse> messages = new ArrayList<>();
        f.blocking().generate(greedy(48).build()).forEachRemaining(messages::add);
        RequestHandle.Result expected = direct(f.model.encodePrompt(PROMPT), SamplingParams.greedy(48));

        StringBuilder text = new StringBuilder();
        List<Integer> ids = new ArrayList<>();
        for (GenerateResponse m : messages) {
            text.append(m.getText());
            ids.addAll(m.getTokenIdsList());
            assertEquals(0, m.getIndex());
            assertTrue(m.getRequestId().startsWith("grpc-"), m.getRequestId());
        }
        RequestHandle.Choice c = expected.choices().getFirst();
        assertFalse(c.text().isEmpty());
        assertEquals(c.text(), text.toString());
        assertArrayEquals(c.tokenIds(), ids.stream().mapToInt(Integer::intValue).toArray());
        GenerateResponse last = messages.getLast();
        assertEquals(c.finishReason().openAiName(), last.getFinishReason());
        for (GenerateResponse m : messages.subList(0, messages.size() - 1)) {
            assertEquals("", m.getFinishReason());
            assertFalse(m.hasUsage());
        }
        assertTrue(last.hasUsage());
        assertEquals(expected.numPromptTokens(), last.getUsage().getPromptTokens());
        assertEquals(c.tokenIds().length, last.getUsage().getCompletionTokens());
        assertEquals(last.getUsage().getPromptTokens() + last.getUsage().getCompletionTokens(), last.getUsage().getTotalTokens());
        assertTrue(messages.size() > 1, "streamed in several messages");
    }

    @Test
    void tokenIdPromptsNChoicesLogprobsAndRequestIds() {
        int[] prompt = f.model.encodePrompt(PROMPT);
        GenerateRequest r = GenerateRequest.newBuilder().setModel(GrpcFixture.ALIAS)
                .setTokenIds(TokenIds.newBuilder().addAllIds(java.util.Arrays.stream(prompt).boxed().toList()))
                .setN(3).setTemperature(0f).setMaxTokens(12).setIgnoreEos(true).setTopLogprobs(2).setRequestId("mine-1").build();
        Map<Integer, StringBuilder> texts = new java.util.TreeMap<>();
        Map<Integer, Integer> counts = new java.util.TreeMap<>();
        int usages = 0;
        for (Iterator<GenerateResponse> it = f.blocking().generate(r); it.hasNext(); ) {
            GenerateResponse m = it.next();
            assertEquals("mine-1", m.getRequestId());
            texts.computeIfAbsent(m.getIndex(), i -> new StringBuilder()).append(m.getText());
            counts.merge(m.getIndex(), m.getTokenIdsCount(), Integer::sum);
            assertEquals(m.getTokenIdsCount(), m.getLogprobsCount());
            m.getLogprobsList().forEach(lp -> assertEquals(2, lp.getTopLogprobsCount()));
            if (m.hasUsage()) {
                usages++;
                assertEquals(36, m.getUsage().getCompletionTokens());
            }
        }
        assertEquals(Set.of(0, 1, 2), texts.keySet());
        assertEquals(1, usages);
        counts.values().forEach(n -> assertEquals(12, n));
        assertEquals(1, texts.values().stream().map(StringBuilder::toString).distinct().count(), "greedy choices agree");
    }

    @Test
    void generateTakesAJsonSchema() throws Exception {
        String schema = "{\"type\":\"object\",\"properties\":{\"color\":{\"enum\":[\"red\",\"green\"]},\"ok\":{\"type\":\"boolean\"}},"
                + "\"required\":[\"color\",\"ok\"],\"additionalProperties\":false}";
        for (long seed = 1; seed <= 3; seed++) {
            StringBuilder text = new StringBuilder();
            String finish = "";
            GenerateRequest r = greedy(200).setTemperature(1f).setSeed(seed)
                    .setJsonSchema(io.basalt.api.grpc.JsonSchemaFormat.newBuilder().setSchema(schema).setStrict(true)).build();
            for (Iterator<GenerateResponse> it = f.blocking().generate(r); it.hasNext(); ) {
                GenerateResponse m = it.next();
                text.append(m.getText());
                if (!m.getFinishReason().isEmpty()) finish = m.getFinishReason();
            }
            assertEquals("stop", finish, text.toString());
            var v = new com.fasterxml.jackson.databind.ObjectMapper().readTree(text.toString());
            assertTrue(List.of("red", "green").contains(v.get("color").asText()), text.toString());
            assertTrue(v.get("ok").isBoolean(), text.toString());
            assertEquals(2, v.size(), text.toString());
        }
        StatusRuntimeException bad = assertThrows(StatusRuntimeException.class, () -> f.blocking().generate(greedy(8)
                .setJsonSchema(io.basalt.api.grpc.JsonSchemaFormat.newBuilder().setSchema("{\"type\":\"object\",\"patternProperties\":{}}"))
                .build()).hasNext());
        assertEquals(Status.Code.INVALID_ARGUMENT, bad.getStatus().getCode());
        assertTrue(bad.getStatus().getDescription().contains("patternProperties"), bad.getStatus().getDescription());
    }

    @Test
    void tokenizeAndListModels() {
        TokenizeResponse t = f.blocking().tokenize(TokenizeRequest.newBuilder().setModel(GrpcFixture.MODEL).setText(PROMPT).build());
        assertArrayEquals(f.model.encodePrompt(PROMPT), t.getTokenIdsList().stream().mapToInt(Integer::intValue).toArray());
        assertEquals(t.getTokenIdsCount(), t.getCount());
        assertEquals(512, t.getMaxModelLen());

        ListModelsResponse models = f.blocking().listModels(ListModelsRequest.getDefaultInstance());
        assertEquals(1, models.getModelsCount());
        assertEquals(GrpcFixture.MODEL, models.getModels(0).getId());
        assertEquals(List.of(GrpcFixture.ALIAS), models.getModels(0).getAliasesList());
        assertEquals(512, models.getModels(0).getMaxModelLen());
        assertEquals(512, models.getModels(0).getVocabSize());
        assertEquals("LLAMA", models.getModels(0).getArchitecture());
    }

    @Test
    void healthIsServing() {
        var health = HealthGrpc.newBlockingStub(f.channel).withDeadlineAfter(5, TimeUnit.SECONDS);
        for (String name : List.of("", "basalt.v1.Inference", "inference.GRPCInferenceService")) {
            assertEquals(HealthCheckResponse.ServingStatus.SERVING,
                    health.check(HealthCheckRequest.newBuilder().setService(name).build()).getStatus(), name);
        }
        assertEquals(Status.Code.NOT_FOUND, code(() -> health.check(HealthCheckRequest.newBuilder().setService("nope").build())));
    }

    @Test
    void reflectionListsTheServices() throws Exception {
        CompletableFuture<ServerReflectionResponse> answer = new CompletableFuture<>();
        StreamObserver<ServerReflectionRequest> req = ServerReflectionGrpc.newStub(f.channel).serverReflectionInfo(new StreamObserver<>() {
            @Override public void onNext(ServerReflectionResponse r) { answer.complete(r); }
            @Override public void onError(Throwable t) { answer.completeExceptionally(t); }
            @Override public void onCompleted() { }
        });
        req.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
        Set<String> names = answer.get(5, TimeUnit.SECONDS).getListServicesResponse().getServiceList().stream()
                .map(ServiceResponse::getName).collect(Collectors.toSet());
        req.onCompleted();
        assertTrue(names.containsAll(Set.of("basalt.v1.Inference", "inference.GRPCInferenceService", "grpc.health.v1.Health",
                "grpc.reflection.v1.ServerReflection")), names.toString());
    }

    static ModelInferRequest.Builder infer(String text) {
        return ModelInferRequest.newBuilder().setModelName(GrpcFixture.MODEL).setId("req-7")
                .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("text_input").setDatatype("BYTES").addShape(1)
                        .setContents(InferTensorContents.newBuilder().addBytesContents(ByteString.copyFromUtf8(text))))
                .putParameters("max_tokens", InferParameter.newBuilder().setInt64Param(40).build())
                .putParameters("temperature", InferParameter.newBuilder().setDoubleParam(0).build());
    }

    @Test
    void kserveInferTextInTextOut() throws Exception {
        String expected = direct(f.model.encodePrompt(PROMPT), SamplingParams.greedy(40)).choices().getFirst().text();
        ModelInferResponse r = f.kserve().modelInfer(infer(PROMPT).build());
        assertEquals(GrpcFixture.MODEL, r.getModelName());
        assertEquals("req-7", r.getId());
        assertEquals(1, r.getOutputsCount());
        ModelInferResponse.InferOutputTensor out = r.getOutputs(0);
        assertEquals("text_output", out.getName());
        assertEquals("BYTES", out.getDatatype());
        assertEquals(List.of(1L), out.getShapeList());
        assertEquals(expected, out.getContents().getBytesContents(0).toStringUtf8());
        assertEquals(40, r.getParametersOrThrow("completion_tokens").getInt64Param());
        assertEquals("length", r.getParametersOrThrow("finish_reason").getStringParam());

        // Triton clients send raw, length-prefixed BYTES and sampling_parameters as JSON; the answer comes back raw.
        ModelInferRequest raw = ModelInferRequest.newBuilder().setModelName(GrpcFixture.ALIAS).setModelVersion("1")
                .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("text_input").setDatatype("BYTES").addShape(1).addShape(1))
                .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("sampling_parameters").setDatatype("BYTES").addShape(1))
                .addRawInputContents(lengthPrefixed(PROMPT))
                .addRawInputContents(lengthPrefixed("{\"max_tokens\": 40, \"temperature\": 0}"))
                .build();
        ModelInferResponse rr = f.kserve().modelInfer(raw);
        assertEquals(0, rr.getOutputs(0).getContents().getBytesContentsCount());
        ByteBuffer b = rr.getRawOutputContents(0).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        byte[] text = new byte[b.getInt()];
        b.get(text);
        assertEquals(expected, new String(text, StandardCharsets.UTF_8));
    }

    static ByteString lengthPrefixed(String s) {
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        return ByteString.copyFrom(ByteBuffer.allocate(4 + utf8.length).order(ByteOrder.LITTLE_ENDIAN).putInt(utf8.length).put(utf8).array());
    }

    @Test
    void kserveLivenessReadinessAndMetadata() {
        var k = f.kserve();
        assertTrue(k.serverLive(ServerLiveRequest.getDefaultInstance()).getLive());
        assertTrue(k.serverReady(ServerReadyRequest.getDefaultInstance()).getReady());
        assertTrue(k.modelReady(ModelReadyRequest.newBuilder().setName(GrpcFixture.MODEL).build()).getReady());
        assertTrue(k.modelReady(ModelReadyRequest.newBuilder().setName(GrpcFixture.ALIAS).setVersion("1").build()).getReady());
        assertFalse(k.modelReady(ModelReadyRequest.newBuilder().setName("gpt-4").build()).getReady());
        assertFalse(k.modelReady(ModelReadyRequest.newBuilder().setName(GrpcFixture.MODEL).setVersion("2").build()).getReady());

        ModelMetadataResponse m = k.modelMetadata(ModelMetadataRequest.newBuilder().setName(GrpcFixture.MODEL).build());
        assertEquals(GrpcFixture.MODEL, m.getName());
        assertEquals(List.of("1"), m.getVersionsList());
        assertEquals("text_input", m.getInputs(0).getName());
        assertEquals("BYTES", m.getInputs(0).getDatatype());
        assertEquals(List.of(1L), m.getInputs(0).getShapeList());
        assertEquals(1, m.getOutputsCount());
        assertEquals("text_output", m.getOutputs(0).getName());
        assertEquals("BYTES", m.getOutputs(0).getDatatype());
    }

    @Test
    void invalidArgumentsAreInvalidArgumentWithTheProblemNamed() {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> f.blocking().generate(greedy(8).setTemperature(-1f).build()).hasNext());
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains("temperature"), e.getStatus().getDescription());

        assertEquals(Status.Code.INVALID_ARGUMENT, code(() -> f.blocking().generate(
                GenerateRequest.newBuilder().setModel(GrpcFixture.MODEL).setMaxTokens(4).build()).hasNext()));
        assertEquals(Status.Code.INVALID_ARGUMENT, code(() -> f.blocking().generate(greedy(8).setMaxTokens(0).build()).hasNext()));
        assertEquals(Status.Code.INVALID_ARGUMENT, code(() -> f.blocking().generate(greedy(8).setN(99).build()).hasNext()));
        StatusRuntimeException vocab = assertThrows(StatusRuntimeException.class, () -> f.blocking().generate(greedy(8)
                .setTokenIds(TokenIds.newBuilder().addIds(1).addIds(100_000)).build()).hasNext());
        assertEquals(Status.Code.INVALID_ARGUMENT, vocab.getStatus().getCode());
        assertTrue(vocab.getStatus().getDescription().contains("vocabulary"), vocab.getStatus().getDescription());

        StatusRuntimeException missing = assertThrows(StatusRuntimeException.class,
                () -> f.kserve().modelInfer(ModelInferRequest.newBuilder().setModelName(GrpcFixture.MODEL).build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, missing.getStatus().getCode());
        assertTrue(missing.getStatus().getDescription().contains("text_input"), missing.getStatus().getDescription());
        assertEquals(Status.Code.INVALID_ARGUMENT, code(() -> f.kserve().modelInfer(infer(PROMPT)
                .putParameters("temperature", InferParameter.newBuilder().setBoolParam(true).build()).build())));
        assertEquals(Status.Code.INVALID_ARGUMENT, code(() -> f.kserve().modelInfer(infer(PROMPT)
                .putParameters("top_p", InferParameter.newBuilder().setDoubleParam(7).build()).build())));
        assertEquals(Status.Code.INVALID_ARGUMENT, code(() -> f.kserve().modelInfer(infer(PROMPT)
                .addOutputs(ModelInferRequest.InferRequestedOutputTensor.newBuilder().setName("logits")).build())));
    }

    @Test
    void kserveRefusesAnUnknownParameterAndAcceptsTritonsReservedOnes() {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> f.kserve().modelInfer(infer(PROMPT)
                .putParameters("max_token", InferParameter.newBuilder().setInt64Param(8).build()).build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().startsWith("unknown parameter 'max_token'"), e.getStatus().getDescription());
        ModelInferResponse r = f.kserve().modelInfer(infer(PROMPT)
                .putParameters("priority", InferParameter.newBuilder().setInt64Param(1).build())
                .putParameters("sequence_id", InferParameter.newBuilder().setUint64Param(0).build())
                .putParameters("timeout", InferParameter.newBuilder().setInt64Param(60_000_000).build()).build());
        assertEquals(40, r.getParametersOrThrow("completion_tokens").getInt64Param());
    }

    @Test
    void anExplicitMaxTokensBeyondTheContextIsInvalidArgumentNotClamped() {
        int ctx = f.model.contextLength();
        int promptTokens = f.model.encodePrompt(PROMPT).length;
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> f.blocking().generate(greedy(ctx).build()).hasNext());
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertEquals("This model's maximum context length is " + ctx + " tokens. However, you requested " + (promptTokens + ctx)
                + " tokens (" + promptTokens + " in the prompt, " + ctx + " in the completion). Please reduce the length of the prompt"
                + " or completion.", e.getStatus().getDescription());
        // exactly the room left is fine
        assertTrue(f.blocking().generate(greedy(ctx - promptTokens).build()).hasNext());
        StatusRuntimeException k = assertThrows(StatusRuntimeException.class, () -> f.kserve().modelInfer(infer(PROMPT)
                .putParameters("max_tokens", InferParameter.newBuilder().setInt64Param(ctx).build()).build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, k.getStatus().getCode());
        assertTrue(k.getStatus().getDescription().startsWith("This model's maximum context length is " + ctx + " tokens."),
                k.getStatus().getDescription());
        // unset: the default applies, as before
        assertTrue(f.kserve().modelInfer(infer(PROMPT).removeParameters("max_tokens").build()).getOutputsCount() > 0);
    }

    @Test
    void badSamplingParametersJsonIsDescribedWithoutJacksonInternals() {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> f.kserve().modelInfer(
                ModelInferRequest.newBuilder().setModelName(GrpcFixture.MODEL)
                        .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("text_input").setDatatype("BYTES").addShape(1))
                        .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("sampling_parameters").setDatatype("BYTES")
                                .addShape(1))
                        .addRawInputContents(lengthPrefixed(PROMPT))
                        .addRawInputContents(lengthPrefixed("{\"max_tokens\": ")).build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertEquals("input 'sampling_parameters' is not valid JSON: it ends before the JSON value is complete at line 1, column 16",
                e.getStatus().getDescription());
    }

    @Test
    void unknownModelIsNotFound() {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> f.blocking().generate(greedy(8).setModel("gpt-4").build()).hasNext());
        assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains("gpt-4"), e.getStatus().getDescription());
        assertEquals(Status.Code.NOT_FOUND, code(() -> f.blocking().tokenize(TokenizeRequest.newBuilder().setModel("gpt-4").build())));
        assertEquals(Status.Code.NOT_FOUND, code(() -> f.kserve().modelInfer(infer(PROMPT).setModelName("gpt-4").build())));
        assertEquals(Status.Code.NOT_FOUND, code(() -> f.kserve().modelMetadata(ModelMetadataRequest.newBuilder().setName("gpt-4").build())));
    }

    /** Starts a long stream, cancels it after {@code after} messages; returns what the client saw. */
    static List<GenerateResponse> generateAndCancel(GenerateRequest request, int after) throws Exception {
        List<GenerateResponse> seen = new ArrayList<>();
        CountDownLatch closed = new CountDownLatch(1);
        AtomicReference<Throwable> error = new AtomicReference<>();
        f.async().generate(request, new ClientResponseObserver<GenerateRequest, GenerateResponse>() {
            ClientCallStreamObserver<GenerateRequest> call;

            @Override public void beforeStart(ClientCallStreamObserver<GenerateRequest> c) { call = c; }

            @Override
            public void onNext(GenerateResponse r) {
                seen.add(r);
                if (seen.size() == after) call.cancel("the test is done reading", null);
            }

            @Override public void onError(Throwable t) { error.set(t); closed.countDown(); }

            @Override public void onCompleted() { closed.countDown(); }
        });
        assertTrue(closed.await(20, TimeUnit.SECONDS));
        assertNotNull(error.get(), "the stream was cancelled, not completed");
        assertEquals(Status.Code.CANCELLED, Status.fromThrowable(error.get()).getCode());
        return seen;
    }

    @Test
    void cancelMidStreamAbortsAndFreesEveryKvBlock() throws Exception {
        f.stepDelay(Duration.ofMillis(5));
        long generatedBefore = f.engine.stats().numGeneratedTokens();
        List<GenerateResponse> seen = generateAndCancel(greedy(400).setIgnoreEos(true).build(), 3);
        assertEquals(3, seen.size());
        EngineStats s = f.awaitStats(GrpcFixture::idle, Duration.ofSeconds(2));
        assertTrue(GrpcFixture.idle(s), "the engine still holds the request: " + s);
        assertTrue(s.numGeneratedTokens() - generatedBefore < 200,
                "the generation stopped early: " + (s.numGeneratedTokens() - generatedBefore) + " tokens");
        assertEquals(0, f.service.inFlight());
    }

    @Test
    void aSlowReaderGetsMergedDeltasAndTheWholeText() throws Exception {
        // 4 choices x 400 tokens is far more than the transport buffers, so the server stops being ready
        // while this client holds back; the deltas queued meanwhile go out merged.
        GenerateRequest r = greedy(400).setIgnoreEos(true).setN(4).build();
        String expected = direct(f.model.encodePrompt(PROMPT), SamplingParams.builder().temperature(0f).maxTokens(400).ignoreEos(true)
                .build()).choices().getFirst().text();
        Map<Integer, StringBuilder> texts = new java.util.concurrent.ConcurrentHashMap<>();
        AtomicInteger messages = new AtomicInteger();
        CountDownLatch done = new CountDownLatch(1);
        AtomicReference<ClientCallStreamObserver<GenerateRequest>> call = new AtomicReference<>();
        AtomicReference<Throwable> error = new AtomicReference<>();
        // A small HTTP/2 window, so what the client has not read soon stops the server's writes.
        io.grpc.ManagedChannel narrow = io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder.forAddress("127.0.0.1", f.server.port())
                .usePlaintext().flowControlWindow(8192).build();
        io.basalt.api.grpc.InferenceGrpc.newStub(narrow).generate(r, new ClientResponseObserver<GenerateRequest, GenerateResponse>() {
            @Override
            public void beforeStart(ClientCallStreamObserver<GenerateRequest> c) {
                call.set(c);
                c.disableAutoRequestWithInitial(1);
            }

            @Override
            public void onNext(GenerateResponse m) {
                messages.incrementAndGet();
                texts.computeIfAbsent(m.getIndex(), i -> new StringBuilder()).append(m.getText());
            }

            @Override public void onError(Throwable t) { error.set(t); done.countDown(); }

            @Override public void onCompleted() { done.countDown(); }
        });
        // The engine finishes without waiting for the reader.
        EngineStats s = f.awaitStats(st -> GrpcFixture.idle(st) && messages.get() >= 1, Duration.ofSeconds(20));
        assertTrue(GrpcFixture.idle(s), s.toString());
        call.get().request(Integer.MAX_VALUE);
        assertTrue(done.await(20, TimeUnit.SECONDS));
        narrow.shutdownNow();
        assertEquals(null, error.get());
        assertEquals(4, texts.size());
        texts.values().forEach(t -> assertEquals(expected, t.toString()));
        assertTrue(messages.get() < 4 * 400, "deltas were merged: " + messages.get() + " messages for 1600 tokens");
    }

    @Test
    void authRequiresTheBearerKeyButHealthStaysOpen() {
        try (GrpcFixture secured = new GrpcFixture(8, "s3cret")) {
            var plain = secured.blocking();
            assertEquals(Status.Code.UNAUTHENTICATED, code(() -> plain.listModels(ListModelsRequest.getDefaultInstance())));
            assertEquals(Status.Code.UNAUTHENTICATED, code(() -> secured.kserve().serverLive(ServerLiveRequest.getDefaultInstance())));
            io.grpc.Metadata wrong = new io.grpc.Metadata();
            wrong.put(ApiKeyInterceptor.AUTHORIZATION, "Bearer nope");
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> plain
                    .withInterceptors(io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(wrong))
                    .listModels(ListModelsRequest.getDefaultInstance()));
            assertEquals(Status.Code.UNAUTHENTICATED, e.getStatus().getCode());
            assertTrue(e.getStatus().getDescription().contains("invalid API key"), e.getStatus().getDescription());

            io.grpc.Metadata right = new io.grpc.Metadata();
            right.put(ApiKeyInterceptor.AUTHORIZATION, "Bearer s3cret");
            var authed = plain.withInterceptors(io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(right));
            assertEquals(GrpcFixture.MODEL, authed.listModels(ListModelsRequest.getDefaultInstance()).getModels(0).getId());
            assertTrue(authed.generate(greedy(4).build()).hasNext());

            assertEquals(HealthCheckResponse.ServingStatus.SERVING, HealthGrpc.newBlockingStub(secured.channel)
                    .withDeadlineAfter(5, TimeUnit.SECONDS).check(HealthCheckRequest.getDefaultInstance()).getStatus());
        }
    }

    @Test
    void overloadIsResourceExhaustedAndDrainIsNotServing() throws Exception {
        try (GrpcFixture small = new GrpcFixture(1, "")) {
            small.stepDelay(Duration.ofMillis(5));
            Iterator<GenerateResponse> first = small.blocking().generate(greedy(400).setIgnoreEos(true).setRequestId("long").build());
            assertTrue(first.hasNext()); // admitted and streaming
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                    () -> small.blocking().generate(greedy(4).build()).hasNext());
            assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode());
            assertTrue(e.getStatus().getDescription().contains("too many requests"), e.getStatus().getDescription());
            assertEquals(Status.Code.RESOURCE_EXHAUSTED, code(() -> small.kserve().modelInfer(infer(PROMPT).build())));

            // A second call with the id of one in flight is refused, and does not disturb the first.
            assertEquals(Status.Code.ALREADY_EXISTS, code(() -> small.blocking().generate(greedy(4).setRequestId("long").build()).hasNext()));

            small.service.drain();
            var health = HealthGrpc.newBlockingStub(small.channel).withDeadlineAfter(5, TimeUnit.SECONDS);
            assertEquals(HealthCheckResponse.ServingStatus.NOT_SERVING, health.check(HealthCheckRequest.getDefaultInstance()).getStatus());
            assertFalse(small.kserve().serverReady(ServerReadyRequest.getDefaultInstance()).getReady());
            assertTrue(small.kserve().serverLive(ServerLiveRequest.getDefaultInstance()).getLive());

            small.stepDelay(Duration.ZERO);
            int tokens = 0;
            GenerateResponse last = null;
            while (first.hasNext()) {
                last = first.next();
                tokens += last.getTokenIdsCount();
            }
            assertTrue(tokens > 0);
            assertEquals("length", last.getFinishReason(), "the running request finished despite the drain");
        }
    }
}
