package io.basalt.bench.structured;

import io.basalt.api.Constraint;
import io.basalt.api.SamplingParams;
import io.basalt.backend.cpu.CpuBackend;
import io.basalt.backend.cpu.CpuModelRunner;
import io.basalt.bench.SharedDir;
import io.basalt.engine.Engine;
import io.basalt.engine.EngineConfig;
import io.basalt.engine.EngineRequest;
import io.basalt.engine.RequestHandle;
import io.basalt.engine.StreamEvent;
import io.basalt.frontend.ModelTokenizer;
import io.basalt.spi.Backend;
import io.basalt.structured.TokenVocabulary;
import io.basalt.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Does a batch mixing constrained and unconstrained requests slow the unconstrained ones down? (Issue acceptance:
 * their inter-token latency is unchanged within noise.) An in-process engine with its own step thread (as the
 * server runs it) on stories260K (CPU backend), N "measured" unconstrained streams (temperature 1, fixed seeds,
 * ignore_eos, T tokens each); the time of every Delta event of those streams is taken in its listener and the
 * gaps between consecutive events of a stream are its inter-token latencies (ITL). Three arms, alternated each
 * round (a warm-up round first, not reported):
 * <ul>
 *   <li>{@code alone}: the N measured streams only;</li>
 *   <li>{@code +free}: plus N unconstrained filler streams (the same batch size as the next arm: the control);</li>
 *   <li>{@code +json}: plus N constrained streams (json_schema, the JSONSchemaBench sample's accepted schemas in
 *       turn, so most grammars are new to the engine's grammar cache), each resubmitted when it finishes so N stay in
 *       flight until the measured streams are done. Their max_tokens is T/4 (stories260K rarely closes a JSON
 *       string by itself), so new grammars (compile, first masks) keep arriving during the measured window.</li>
 * </ul>
 * The acceptance compares {@code +json} with {@code +free}; {@code alone} shows what the batch size itself costs.
 *
 * <p>Usage: {@code benchmarks/structured-bench.sh mixed [rounds=5] [N=4] [T=200] [distinct schemas=all]}
 */
public final class MixedBatchBench {
    private static final int PROMPT_TOKEN = 1;  // BOS: stories260K starts a story

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 4;
        int tokens = args.length > 2 ? Integer.parseInt(args[2]) : 200;
        // How many distinct schemas the constrained streams cycle through: all (each request compiles a new grammar and
        // starts with a cold mask cache, the worst case) or a few (served traffic repeats schemas: cache hits).
        int distinct = args.length > 3 ? Integer.parseInt(args[3]) : Integer.MAX_VALUE;
        // -Dmixed.model=FILE: another model (a 110M Llama GGUF makes steps of realistic length); default stories260K
        String modelFile = System.getProperty("mixed.model");
        java.nio.file.Path modelPath = modelFile != null ? java.nio.file.Path.of(modelFile) : SharedDir.model("stories260K/stories260K.bin");
        CpuModelRunner runner = new CpuBackend().load(modelPath,
                new Backend.LoadConfig(512L << 20, 64, 2048));
        Tokenizer tok = ModelTokenizer.forModel(runner.model().info(), null);
        List<String> schemas = StructuredFixtures.compilable(StructuredFixtures.sampleSchemas(), TokenVocabulary.of(tok));
        schemas = schemas.subList(0, Math.min(distinct, schemas.size()));
        System.out.printf(Locale.ROOT, "%s (vocab %d), %d measured streams of %d tokens, %d sample schemas for the constrained"
                + " streams; %d CPUs%n", modelPath.getFileName(), tok.vocabSize(), n, tokens, schemas.size(), Runtime.getRuntime().availableProcessors());
        try (Engine engine = new Engine(runner, tok, EngineConfig.defaults().withKvCacheMemoryBytes(512L << 20)).start()) {
            MixedBatchBench b = new MixedBatchBench(engine, schemas, n, tokens);
            String[] arms = {"alone", "+free", "+json"};
            List<List<Long>> all = new ArrayList<>();
            for (int i = 0; i < arms.length; i++) all.add(new ArrayList<>());
            for (int r = -1; r < rounds; r++) {
                StringBuilder line = new StringBuilder(r < 0 ? "warm-up " : "round " + r + ": ");
                for (int a = 0; a < arms.length; a++) {
                    int arm = (a + Math.max(r, 0)) % arms.length;  // rotate the order each round
                    Result res = b.run(arm, r);
                    if (r >= 0) all.get(arm).addAll(res.itl);
                    line.append(String.format(Locale.ROOT, " %s ITL p50 %s p99 %s (%d gaps%s);", arms[arm], ms(res.itl, 50),
                            ms(res.itl, 99), res.itl.size(), arm == 2 ? ", " + res.constrainedTokens + " constrained tokens in "
                                    + res.constrainedRequests + " requests" : ""));
                }
                System.out.println(line);
            }
            for (int a = 0; a < arms.length; a++) {
                System.out.printf(Locale.ROOT, "all rounds %-6s ITL p50 %s p90 %s p99 %s (%d gaps)%n", arms[a], ms(all.get(a), 50),
                        ms(all.get(a), 90), ms(all.get(a), 99), all.get(a).size());
            }
        }
    }

    private final Engine engine;
    private final List<String> schemas;
    private final int n;
    private final int tokens;
    private int nextSchema;
    private int ids;

    private MixedBatchBench(Engine engine, List<String> schemas, int n, int tokens) {
        this.engine = engine;
        this.schemas = schemas;
        this.n = n;
        this.tokens = tokens;
    }

    record Result(List<Long> itl, long constrainedTokens, int constrainedRequests) { }

    /** One arm: submits everything, waits for the measured streams, aborts the rest and waits until they end. */
    private Result run(int arm, int round) throws Exception {
        long[][] times = new long[n][tokens + 1];
        int[] count = new int[n];
        List<RequestHandle> measured = new ArrayList<>();
        List<String> others = new ArrayList<>();
        ConcurrentLinkedQueue<Integer> ended = new ConcurrentLinkedQueue<>();
        AtomicInteger constrainedTokens = new AtomicInteger();
        int constrainedRequests = 0;
        // The other streams go in first, so the measured ones join a batch that already holds them.
        for (int i = 0; i < n; i++) {
            if (arm == 1) others.add(submitFree(i, ended));
            if (arm == 2) {
                others.add(submitConstrained(i, ended, constrainedTokens));
                constrainedRequests++;
            }
        }
        for (int i = 0; i < n; i++) {
            final int s = i;
            SamplingParams p = SamplingParams.builder().temperature(1f).seed(100 + i).maxTokens(tokens).ignoreEos(true).build();
            measured.add(engine.submit(new EngineRequest("m" + (ids++), new int[] {PROMPT_TOKEN}, p, 0), e -> {
                if (e instanceof StreamEvent.Delta && count[s] < times[s].length) times[s][count[s]++] = System.nanoTime();
            }));
        }
        while (!measured.stream().allMatch(h -> h.result().isDone())) {
            Integer slot = ended.poll();
            if (slot != null && arm == 1) {
                others.add(submitFree(slot, ended));
            } else if (slot != null) {
                others.add(submitConstrained(slot, ended, constrainedTokens));
                constrainedRequests++;
            } else {
                Thread.sleep(1);
            }
        }
        for (String id : others) engine.abort(id);
        for (RequestHandle h : measured) h.result().get(60, TimeUnit.SECONDS);
        Thread.sleep(50);  // let the aborts land before the next arm
        List<Long> itl = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            for (int k = 1; k < count[i]; k++) itl.add(times[i][k] - times[i][k - 1]);
        }
        return new Result(itl, constrainedTokens.get(), constrainedRequests);
    }

    /**
     * A control filler: unconstrained, but as long as a constrained request was (the lengths the +json arms recorded, in
     * turn), and resubmitted as it ends, so both arms add the same churn of new requests (their prefills) to the batch.
     */
    private String submitFree(int slot, ConcurrentLinkedQueue<Integer> ended) {
        String id = "f" + (ids++);
        int length;
        synchronized (constrainedLengths) {
            length = constrainedLengths.isEmpty() ? Math.max(8, tokens / 4) : constrainedLengths.get(nextLength++ % constrainedLengths.size());
        }
        SamplingParams p = SamplingParams.builder().temperature(1f).seed(7000 + ids).maxTokens(Math.max(1, length)).ignoreEos(true).build();
        engine.submit(new EngineRequest(id, new int[] {PROMPT_TOKEN}, p, 0), e -> {
            if (e instanceof StreamEvent.Finished || e instanceof StreamEvent.Failed) ended.add(slot);
        });
        return id;
    }

    private final List<Integer> constrainedLengths = new ArrayList<>();
    private int nextLength;

    private String submitConstrained(int slot, ConcurrentLinkedQueue<Integer> ended, AtomicInteger generated) {
        String id = "c" + (ids++);
        String schema = schemas.get(nextSchema++ % schemas.size());
        SamplingParams p = SamplingParams.builder().temperature(1f).seed(5000 + ids).maxTokens(Math.max(8, tokens / 4))
                .constraint(new Constraint.JsonSchema(schema, false)).build();
        int[] length = {0};
        engine.submit(new EngineRequest(id, new int[] {PROMPT_TOKEN}, p, 0), e -> {
            if (e instanceof StreamEvent.Delta d) {
                generated.addAndGet(d.tokenIds().length);
                length[0] += d.tokenIds().length;
            }
            if (e instanceof StreamEvent.Finished) {
                synchronized (constrainedLengths) { constrainedLengths.add(length[0]); }
            }
            if (e instanceof StreamEvent.Finished || e instanceof StreamEvent.Failed) ended.add(slot);
        });
        return id;
    }

    private static String ms(List<Long> xs, double pct) {
        if (xs.isEmpty()) return "-";
        long[] a = xs.stream().mapToLong(Long::longValue).toArray();
        Arrays.sort(a);
        int i = (int) Math.min(a.length - 1, Math.ceil(pct / 100.0 * a.length) - 1);
        return String.format(Locale.ROOT, "%.3fms", a[Math.max(0, i)] / 1e6);
    }
}
