package io.basalt.engine;

import io.basalt.kv.KvCacheManager;
import io.basalt.spi.Batch;
import io.basalt.spi.Capabilities;
import io.basalt.spi.KvLayout;
import io.basalt.spi.SequenceInput;
import io.basalt.spi.ShapePolicy;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.PriorityQueue;

/**
 * Decides each step's work, vLLM v1 style: every sequence has tokens computed and tokens known, and
 * a step closes those gaps within one token budget. Running sequences go first (decodes and
 * unfinished prefill chunks), then waiting ones are admitted into the leftover budget (chunked
 * prefill), taking their cached prefix from the KV manager. When blocks run out, the running
 * sequence with the lowest priority (then the latest arrival) is preempted: its blocks are freed
 * and it is recomputed later. Bucketed backends cap the step at their largest bucket and get it
 * padded to the smallest fitting one; SLOTS backends admit only into a free slot and never preempt.
 * The plan comes with the {@link Batch} the runner executes, built here from the sequences (nano-vllm's
 * prepare step), so nothing else turns sequences into runner input.
 */
final class Scheduler {
    /** One sequence's share of a step. */
    record Scheduled(Sequence sequence, int startPosition, int numTokens) { }

    /**
     * A step's plan: what runs, who was preempted, and the batch for the runner (its sequences in the order of
     * {@code scheduled}; when nothing runs, an empty batch that takes no pending block copies).
     */
    record Plan(List<Scheduled> scheduled, List<Sequence> preempted, Batch batch) {
        boolean isEmpty() { return scheduled.isEmpty(); }

        int numTokens() { return scheduled.stream().mapToInt(Scheduled::numTokens).sum(); }
    }

    private enum Mode { ANY, PREFILL_ONLY, DECODE_ONLY }

    private static final Batch NOTHING = new Batch(List.of(), List.of(), Batch.HiddenStates.NONE);

    private static final Comparator<Sequence> QUEUE_ORDER = Comparator.comparingInt(Sequence::priority)
            .thenComparingLong(s -> s.arrivalOrder).thenComparingLong(s -> s.id);

    private final KvCacheManager kv;
    private final boolean prefixCaching;
    private final boolean mixed;
    private final boolean slots;
    private final ShapePolicy.Bucketed buckets; // null when DYNAMIC
    private final int tokenBudget;
    private final int maxNumSeqs;
    private final PriorityQueue<Sequence> waiting = new PriorityQueue<>(QUEUE_ORDER);
    private final List<Sequence> running = new ArrayList<>();
    private long prefixQueryTokens;
    private long prefixHitTokens;
    private long numPreemptions;

    Scheduler(EngineConfig config, Capabilities caps, KvCacheManager kv) {
        this.kv = kv;
        this.prefixCaching = config.enablePrefixCaching();
        this.mixed = caps.mixedPrefillDecode();
        this.slots = caps.kvLayout() instanceof KvLayout.Slots;
        this.buckets = switch (caps.shapePolicy()) {
            case ShapePolicy.Dynamic d -> null;
            case ShapePolicy.Bucketed b -> b;
        };
        int budget = config.maxNumBatchedTokens();
        int seqs = config.maxNumSeqs();
        if (buckets != null) {
            budget = Math.min(budget, buckets.maxTokens());
            seqs = Math.min(seqs, buckets.maxSequences());
        }
        if (caps.kvLayout() instanceof KvLayout.Slots s) seqs = Math.min(seqs, s.maxSequences());
        this.tokenBudget = budget;
        this.maxNumSeqs = seqs;
    }

    int maxNumSeqs() { return maxNumSeqs; }

    void addWaiting(Sequence s) {
        s.status = SequenceStatus.WAITING;
        waiting.add(s);
    }

    /** A forked choice: it already holds (shared) blocks and computed KV. */
    void addRunning(Sequence s) {
        s.status = SequenceStatus.RUNNING;
        running.add(s);
    }

    /** Takes a sequence out of the queues and frees its blocks. */
    void remove(Sequence s) {
        if (!running.remove(s)) waiting.remove(s);
        kv.free(s.id);
    }

    boolean hasWork() { return !running.isEmpty() || !waiting.isEmpty(); }

    int numWaiting() { return waiting.size(); }

    int numRunning() { return running.size(); }

    long prefixQueryTokens() { return prefixQueryTokens; }

    long prefixHitTokens() { return prefixHitTokens; }

    long numPreemptions() { return numPreemptions; }

    Plan schedule() {
        if (mixed) return schedule(Mode.ANY);
        // Backends that cannot mix run prefill steps while there is prefill work, else decode steps.
        Plan prefill = schedule(Mode.PREFILL_ONLY);
        return prefill.isEmpty() && prefill.preempted().isEmpty() ? schedule(Mode.DECODE_ONLY) : prefill;
    }

    private Plan schedule(Mode mode) {
        List<Scheduled> scheduled = new ArrayList<>();
        List<Sequence> preempted = new ArrayList<>();
        int budget = tokenBudget;
        for (Sequence seq : new ArrayList<>(running)) {
            if (seq.status != SequenceStatus.RUNNING || budget == 0) continue;
            int n = seq.numUncomputed();
            // Prefill = more than one token, or still inside the prompt: a chunk can leave exactly the prompt's
            // last token (prompt = budget + 1), which is prefill work and must not join a decode-only step.
            boolean prefill = n > 1 || seq.numComputed < seq.numPromptTokens;
            if (n == 0 || (mode == Mode.DECODE_ONLY && prefill) || (mode == Mode.PREFILL_ONLY && !prefill)) continue;
            n = fitTokens(scheduled, Math.min(n, budget));
            if (n == 0) continue;
            while (true) {
                if (kv.allocate(seq.id, seq.tokens(), seq.numComputed, seq.numComputed + n)) {
                    scheduled.add(new Scheduled(seq, seq.numComputed, n));
                    budget -= n;
                    break;
                }
                if (slots) break; // a slot never grows: the engine caps lengths at the slot size
                Sequence victim = victim();
                budget += unschedule(scheduled, victim);
                preempt(victim);
                preempted.add(victim);
                if (victim == seq) break;
            }
        }
        if (preempted.isEmpty()) {
            int reserved = numReservedSeqs();
            while (!waiting.isEmpty() && budget > 0) {
                Sequence seq = waiting.peek();
                int choices = seq.request.forked ? 1 : seq.request.numChoices();
                if (reserved + choices > maxNumSeqs) break;
                int cached = prefixCaching ? kv.findCachedPrefix(seq.tokens(), seq.numTokens()) : 0;
                // A preempted sequence whose KV is cached up to its last token resumes with a 1-token chunk past
                // its prompt: a decode. Backends that cannot mix admit it with the decodes, everything else with
                // the prefills (stopping at the queue head either way, so the priority order holds).
                boolean prefill = seq.numTokens() - cached > 1 || cached < seq.numPromptTokens;
                if ((mode == Mode.DECODE_ONLY && prefill) || (mode == Mode.PREFILL_ONLY && !prefill)) break;
                int n = fitTokens(scheduled, Math.min(seq.numTokens() - cached, budget));
                if (n == 0 || !kv.allocate(seq.id, seq.tokens(), cached, cached + n)) break;
                waiting.poll();
                prefixQueryTokens += seq.numTokens();
                prefixHitTokens += cached;
                seq.numComputed = cached;
                seq.status = SequenceStatus.RUNNING;
                running.add(seq);
                scheduled.add(new Scheduled(seq, cached, n));
                budget -= n;
                reserved += choices;
            }
        }
        return new Plan(scheduled, preempted, scheduled.isEmpty() ? NOTHING : batch(scheduled));
    }

    /** The runner's view of the plan: each sequence's new tokens, positions, block table and sampling, the copies first. */
    private Batch batch(List<Scheduled> scheduled) {
        List<SequenceInput> inputs = new ArrayList<>(scheduled.size());
        int numTokens = 0;
        for (Scheduled s : scheduled) {
            Sequence seq = s.sequence();
            int end = s.startPosition() + s.numTokens();
            inputs.add(new SequenceInput(seq.id, seq.tokensRange(s.startPosition(), end), s.startPosition(),
                    kv.blockTable(seq.id), end == seq.numTokens(), DeviceSampling.of(seq)));
            numTokens += s.numTokens();
        }
        Optional<ShapePolicy.Bucket> shape = Optional.empty();
        if (buckets != null) {
            ShapePolicy.Bucket fit = buckets.fit(scheduled.size(), numTokens);
            // fitTokens kept every addition inside some bucket, so one fits.
            if (fit == null) throw new IllegalStateException("no bucket holds " + scheduled.size() + " sequences / " + numTokens + " tokens");
            shape = Optional.of(fit);
        }
        return new Batch(kv.takePendingCopies(), inputs, shape, Batch.HiddenStates.NONE);
    }

    /**
     * Places taken in max_num_seqs: running sequences plus the choices an admitted n &gt; 1 request will fork
     * off once its prompt is computed. (Counting only running.size() let later admissions take those places:
     * the fork then overran max_num_seqs, and on SLOTS found no free slot and threw out of the step.)
     */
    private int numReservedSeqs() {
        int n = 0;
        for (Sequence s : running) n += s.request.forked ? 1 : s.request.numChoices();
        return n;
    }

    /** The most tokens (≤ n) one more sequence may add so that the step still fits a bucket. */
    private int fitTokens(List<Scheduled> scheduled, int n) {
        if (buckets == null || n == 0) return n;
        int used = scheduled.stream().mapToInt(Scheduled::numTokens).sum();
        int best = 0;
        for (ShapePolicy.Bucket b : buckets.buckets()) {
            if (b.numSequences() >= scheduled.size() + 1) best = Math.max(best, Math.min(n, b.numTokens() - used));
        }
        return Math.max(0, best);
    }

    /** Lowest priority (largest value) first, then the latest arrival. */
    private Sequence victim() {
        Sequence victim = null;
        for (Sequence s : running) {
            if (victim == null || s.priority() > victim.priority()
                    || (s.priority() == victim.priority() && s.arrivalOrder > victim.arrivalOrder)
                    || (s.priority() == victim.priority() && s.arrivalOrder == victim.arrivalOrder && s.id > victim.id)) {
                victim = s;
            }
        }
        return victim;
    }

    private static int unschedule(List<Scheduled> scheduled, Sequence s) {
        for (int i = 0; i < scheduled.size(); i++) {
            if (scheduled.get(i).sequence() == s) return scheduled.remove(i).numTokens();
        }
        return 0;
    }

    /** Recompute-style preemption: drop the KV, keep the tokens, queue again. */
    private void preempt(Sequence s) {
        running.remove(s);
        kv.free(s.id);
        s.numComputed = 0;
        s.numPreemptions++;
        numPreemptions++;
        addWaiting(s);
    }
}
