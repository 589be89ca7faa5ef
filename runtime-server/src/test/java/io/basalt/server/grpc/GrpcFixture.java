package io.basalt.server.grpc;

import io.basalt.api.grpc.InferenceGrpc;
import io.basalt.api.kserve.GRPCInferenceServiceGrpc;
import io.basalt.backend.cpu.CpuBackend;
import io.basalt.backend.cpu.CpuModelRunner;
import io.basalt.engine.Engine;
import io.basalt.engine.EngineConfig;
import io.basalt.engine.EngineStats;
import io.basalt.frontend.ModelTokenizer;
import io.basalt.server.InferenceService;
import io.basalt.server.ServedModel;
import io.basalt.server.ServerConfig;
import io.basalt.server.ServerMetrics;
import io.basalt.spi.Backend;
import io.basalt.spi.Batch;
import io.basalt.spi.Capabilities;
import io.basalt.spi.ModelRunner;
import io.basalt.spi.ModelSpec;
import io.basalt.spi.StepOutput;
import io.basalt.testing.Shared;
import io.basalt.tokenizer.Tokenizer;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Predicate;

/**
 * stories260K on the CPU backend behind an {@link InferenceService} and a {@link GrpcServer} on
 * 127.0.0.1 (any free port), with a plaintext channel to it. Steps can be slowed down
 * ({@link #stepDelay}) so a test can cancel in the middle of a generation.
 */
final class GrpcFixture implements AutoCloseable {
    static final String MODEL = "stories260K";
    static final String ALIAS = "tinystories";

    final Engine engine;
    final ServedModel model;
    final InferenceService service;
    final GrpcServer server;
    final ManagedChannel channel;
    private final SlowRunner runner;

    GrpcFixture(int maxInFlight, String apiKey) {
        this(maxInFlight, apiKey, b -> b);
    }

    GrpcFixture(int maxInFlight, String apiKey, java.util.function.UnaryOperator<NettyChannelBuilder> channelOptions) {
        EngineConfig config = new EngineConfig(16, 1024, 16L << 20, false);
        CpuModelRunner cpu = new CpuBackend().load(Shared.model("stories260K/stories260K.bin"),
                new Backend.LoadConfig(config.kvCacheMemoryBytes(), config.maxNumSeqs(), config.maxNumBatchedTokens()));
        var info = cpu.model().info();
        Tokenizer tokenizer = ModelTokenizer.forModel(info, null);
        runner = new SlowRunner(cpu);
        engine = new Engine(runner, tokenizer, config).start();
        model = new ServedModel(List.of(MODEL, ALIAS), info, tokenizer, engine, 1_700_000_000L);
        service = new InferenceService(model, new ServerMetrics(engine, MODEL), maxInFlight, Duration.ZERO);
        ServerConfig sc = new ServerConfig("127.0.0.1", 0, 0, apiKey, 8L << 20, Duration.ofSeconds(2));
        server = GrpcServer.start(service, sc);
        channel = channelOptions.apply(NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext()).build();
    }

    InferenceGrpc.InferenceBlockingStub blocking() { return InferenceGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS); }

    InferenceGrpc.InferenceStub async() { return InferenceGrpc.newStub(channel); }

    GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub kserve() {
        return GRPCInferenceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS);
    }

    /** Each engine step takes at least this long (0 = full speed). */
    void stepDelay(Duration d) { runner.delayNanos = d.toNanos(); }

    /** Polls the engine stats until {@code condition} holds; returns the last stats either way. */
    EngineStats awaitStats(Predicate<EngineStats> condition, Duration timeout) {
        long end = System.nanoTime() + timeout.toNanos();
        EngineStats s = engine.stats();
        while (!condition.test(s) && System.nanoTime() < end) {
            LockSupport.parkNanos(5_000_000);
            s = engine.stats();
        }
        return s;
    }

    static boolean idle(EngineStats s) { return s.numRunning() == 0 && s.numWaiting() == 0 && s.kvUsedBlocks() == 0; }

    @Override
    public void close() {
        channel.shutdownNow();
        server.close(Duration.ofSeconds(2));
        service.close();
        engine.close();
    }

    /** Delegates to the CPU runner, sleeping after each step when a delay is set. */
    static final class SlowRunner implements ModelRunner {
        private final ModelRunner delegate;
        volatile long delayNanos;

        SlowRunner(ModelRunner delegate) { this.delegate = delegate; }

        @Override public ModelSpec spec() { return delegate.spec(); }

        @Override public Capabilities capabilities() { return delegate.capabilities(); }

        @Override
        public StepOutput execute(Batch batch) {
            StepOutput out = delegate.execute(batch);
            long d = delayNanos;
            if (d > 0) LockSupport.parkNanos(d);
            return out;
        }

        @Override public void close() { delegate.close(); }
    }
}
