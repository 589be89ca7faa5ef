package io.basalt.engine;

import io.basalt.spi.Architecture;
import io.basalt.spi.Batch;
import io.basalt.spi.BlockCopy;
import io.basalt.spi.Capabilities;
import io.basalt.spi.KvLayout;
import io.basalt.spi.ModelRunner;
import io.basalt.spi.ModelSpec;
import io.basalt.spi.SequenceInput;
import io.basalt.spi.SequenceOutput;
import io.basalt.spi.ShapePolicy;
import io.basalt.spi.StepOutput;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A model-free {@link ModelRunner} with configurable {@link Capabilities}, for scheduler tests of backends the
 * CPU cannot stand in for (BUCKETED shapes, SLOTS, no mixed prefill/decode).
 *
 * <p>Its "KV cache" stores the token id written at each position of each block (or slot), and its logits
 * depend on the whole context it reads back through the block table: the next token is a hash of every
 * token at positions [0, p]. So a wrong block table, a missing copy-on-write, a stale prefix-cache hit or a
 * lost block shows up as a wrong output token, exactly as with a real model; {@link #expected} gives the
 * correct greedy output.
 *
 * <p>With {@link Capabilities#onDeviceSampling()} it plays a device that samples: instead of logits it returns
 * the token it draws from each sequence's {@link SequenceInput.Sampling}: greedy, the same token as the logits'
 * argmax; otherwise a hash of that token, the seed and the step index (a counter-based draw), so
 * {@link #expectedDrawn} gives the output of a seeded request and a wrong seed or step shows as a wrong token.
 *
 * <p>Every {@link Batch} is checked against the backend contract as it arrives (violations throw
 * {@link AssertionError}, which passes through {@code Engine.step()}) and recorded in {@link #batches}.
 */
final class FakeRunner implements ModelRunner {
    /** Summary of one executed step. */
    record Step(List<SequenceInput> inputs, ShapePolicy.Bucket paddedShape, List<BlockCopy> copies, boolean prefill) { }

    private final ModelSpec spec;
    private final Capabilities caps;
    private final int blockSize;
    private final int[][] kv;                  // [block or slot][offset] -> token id, -1 = never written
    private final List<int[]> prompts = new ArrayList<>();
    final List<Step> batches = new ArrayList<>();
    // SLOTS bookkeeping: which sequence owns which slot, and sequences that lost their slot (finished).
    private final Map<Integer, Long> slotOwner = new HashMap<>();
    private final Map<Long, Integer> slotOf = new HashMap<>();
    private final Set<Long> retired = new HashSet<>();

    FakeRunner(int vocabSize, int maxPositions, Capabilities caps) {
        this.spec = new ModelSpec(Architecture.LLAMA, vocabSize, maxPositions, 1, 8, 64);
        this.caps = caps;
        this.blockSize = caps.kvBlockSize();
        int numBlocks = caps.kvLayout() instanceof KvLayout.Slots s ? s.maxSequences() : caps.numKvBlocks();
        this.kv = new int[numBlocks][blockSize];
        for (int[] b : kv) Arrays.fill(b, -1);
    }

    static Capabilities capabilities(ShapePolicy shapes, boolean mixed, KvLayout layout, int numKvBlocks) {
        return new Capabilities(shapes, mixed, layout, numKvBlocks, false);
    }

    /** The same backend, sampling on the device. */
    static Capabilities samplingOnDevice(Capabilities c) {
        return new Capabilities(c.shapePolicy(), c.mixedPrefillDecode(), c.kvLayout(), c.numKvBlocks(), true);
    }

    /** Makes a prompt known, so that 1-token chunks inside it count as prefill. */
    void registerPrompt(int[] prompt) { prompts.add(prompt.clone()); }

    /** The next token after context[0..length): a hash of the whole context, avoiding ids 0..2. */
    static int next(int[] context, int length, int vocab) {
        long h = 0x9E3779B97F4A7C15L;
        for (int i = 0; i < length; i++) {
            h = (h ^ context[i]) * 0x100000001B3L;
            h ^= h >>> 29;
        }
        return 3 + (int) Math.floorMod(h, (long) (vocab - 3));
    }

    /** The device's draw at temperature &gt; 0: the context's token mixed with the stream's seed and the token's index. */
    static int draw(int contextToken, long seed, int step, int vocab) {
        long h = (contextToken * 0x9E3779B97F4A7C15L) ^ (seed * 0xC2B2AE3D27D4EB4FL) ^ (step * 0x165667B19E3779F9L);
        h = (h ^ (h >>> 31)) * 0xBF58476D1CE4E5B9L;
        return 3 + (int) Math.floorMod(h ^ (h >>> 29), (long) (vocab - 3));
    }

    /** What the device draws for a seeded (temperature &gt; 0) sequence with stream seed {@code seed}. */
    static int[] expectedDrawn(int[] prompt, int maxTokens, long seed, int vocab) {
        int[] ctx = Arrays.copyOf(prompt, prompt.length + maxTokens);
        for (int i = 0; i < maxTokens; i++) ctx[prompt.length + i] = draw(next(ctx, prompt.length + i, vocab), seed, i, vocab);
        return Arrays.copyOfRange(ctx, prompt.length, ctx.length);
    }

    /** The greedy output for a prompt: maxTokens tokens (the fake never produces EOS-like ids). */
    static int[] expected(int[] prompt, int maxTokens, int vocab) {
        int[] ctx = Arrays.copyOf(prompt, prompt.length + maxTokens);
        for (int i = 0; i < maxTokens; i++) ctx[prompt.length + i] = next(ctx, prompt.length + i, vocab);
        return Arrays.copyOfRange(ctx, prompt.length, ctx.length);
    }

    @Override public ModelSpec spec() { return spec; }

    @Override public Capabilities capabilities() { return caps; }

    @Override
    public StepOutput execute(Batch batch) {
        List<SequenceInput> inputs = batch.sequences();
        check(!inputs.isEmpty(), "an empty batch was executed");
        checkShape(batch);
        // The copies come first, as on a device: what a sequence reads (and so whether its step is prefill) is after them.
        for (BlockCopy c : batch.blockCopies()) {
            check(c.source() != c.target(), "a block copied onto itself");
            kv[c.target()] = kv[c.source()].clone();
        }
        boolean anyPrefill = false, anyDecode = false;
        for (SequenceInput in : inputs) {
            if (isPrefill(in)) anyPrefill = true;
            else anyDecode = true;
        }
        if (!caps.mixedPrefillDecode()) {
            check(!(anyPrefill && anyDecode), "prefill chunks and decodes share a step on a backend that cannot mix them: "
                    + describe(inputs));
        }
        batches.add(new Step(inputs, batch.paddedShape().orElse(null), batch.blockCopies(), anyPrefill));
        if (caps.kvLayout() instanceof KvLayout.Slots) checkSlots(inputs);

        // Read every context first (one forward: attention sees the KV as it was before this step's writes).
        List<int[]> contexts = new ArrayList<>(inputs.size());
        Set<Long> written = new HashSet<>();
        Set<Long> read = new HashSet<>();
        for (SequenceInput in : inputs) {
            int[] table = in.blockTable();
            int end = in.startPosition() + in.numTokens();
            check((end - 1) / blockSize < table.length, "block table of seq " + in.seqId() + " too short for position " + (end - 1));
            int[] ctx = new int[end];
            for (int p = 0; p < in.startPosition(); p++) {
                int block = table[p / blockSize];
                check(block >= 0 && block < kv.length, "block id " + block + " out of range");
                ctx[p] = kv[block][p % blockSize];
                check(ctx[p] >= 0, "seq " + in.seqId() + " reads position " + p + " (block " + block + ") that was never written");
                read.add(((long) block << 32) | (p % blockSize));
            }
            System.arraycopy(in.tokenIds(), 0, ctx, in.startPosition(), in.numTokens());
            contexts.add(ctx);
        }
        for (SequenceInput in : inputs) {
            int[] table = in.blockTable();
            for (int i = 0; i < in.numTokens(); i++) {
                int p = in.startPosition() + i;
                int block = table[p / blockSize];
                check(block >= 0 && block < kv.length, "block id " + block + " out of range");
                long key = ((long) block << 32) | (p % blockSize);
                check(written.add(key), "two sequences write block " + block + " offset " + p % blockSize + " in one step");
                check(!read.contains(key), "block " + block + " offset " + p % blockSize + " is read and written in one step");
                kv[block][p % blockSize] = in.tokenIds()[i];
            }
        }

        List<SequenceOutput> out = new ArrayList<>(inputs.size());
        for (int i = 0; i < inputs.size(); i++) {
            SequenceInput in = inputs.get(i);
            if (!in.needLogits()) {
                out.add(SequenceOutput.NONE);
                continue;
            }
            int[] ctx = contexts.get(i);
            int next = next(ctx, ctx.length, spec.vocabSize());
            if (caps.onDeviceSampling()) {
                SequenceInput.Sampling s = in.sampling();
                out.add(new SequenceOutput.Sampled(s.isGreedy() ? next : draw(next, s.seed(), s.step(), spec.vocabSize())));
                continue;
            }
            float[] l = new float[spec.vocabSize()];
            // A clear winner plus a deterministic spread, so temperature sampling has something to draw from.
            for (int t = 0; t < l.length; t++) l[t] = ((t * 7919 + ctx.length * 31) % 97) / 97f;
            l[next] = 20f;
            out.add(new SequenceOutput.Logits(l));
        }
        return new StepOutput(out, List.of());
    }

    /** Prefill: more than one token, or a position inside the (registered) prompt the sequence started with. */
    private boolean isPrefill(SequenceInput in) {
        if (in.numTokens() > 1) return true;
        int pos = in.startPosition();
        int[] table = in.blockTable();
        // The context: what the KV holds for [0, pos) (not yet modified by this step), then the new token.
        int[] ctx = new int[pos + 1];
        for (int p = 0; p < pos; p++) {
            int block = table[p / blockSize];
            ctx[p] = block >= 0 && block < kv.length ? kv[block][p % blockSize] : -1;
        }
        ctx[pos] = in.tokenIds()[0];
        for (int[] prompt : prompts) {
            if (prompt.length > pos && Arrays.equals(prompt, 0, pos + 1, ctx, 0, pos + 1)) return true;
        }
        return false;
    }

    private void checkShape(Batch batch) {
        switch (caps.shapePolicy()) {
            case ShapePolicy.Dynamic d -> check(batch.paddedShape().isEmpty(), "a DYNAMIC backend got a padded shape");
            case ShapePolicy.Bucketed b -> {
                check(batch.paddedShape().isPresent(), "a BUCKETED backend got no padded shape");
                ShapePolicy.Bucket shape = batch.paddedShape().get();
                check(b.buckets().contains(shape), "padded shape " + shape + " is not one of the compiled buckets " + b.buckets());
                int seqs = batch.sequences().size(), tokens = batch.numTokens();
                check(seqs <= shape.numSequences() && tokens <= shape.numTokens(),
                        "a step of " + seqs + " sequences / " + tokens + " tokens does not fit its padded shape " + shape);
                ShapePolicy.Bucket smallest = null;
                for (ShapePolicy.Bucket c : b.buckets()) {
                    if (c.numSequences() < seqs || c.numTokens() < tokens) continue;
                    if (smallest == null || c.numTokens() < smallest.numTokens()
                            || (c.numTokens() == smallest.numTokens() && c.numSequences() < smallest.numSequences())) {
                        smallest = c;
                    }
                }
                check(shape.equals(smallest), "padded shape " + shape + " is not the smallest fitting bucket " + smallest);
            }
        }
    }

    private void checkSlots(List<SequenceInput> inputs) {
        KvLayout.Slots slots = (KvLayout.Slots) caps.kvLayout();
        Set<Integer> inBatch = new HashSet<>();
        for (SequenceInput in : inputs) {
            check(in.blockTable().length == 1, "a SLOTS block table must be exactly the slot, got " + Arrays.toString(in.blockTable()));
            int slot = in.blockTable()[0];
            check(slot >= 0 && slot < slots.maxSequences(), "slot " + slot + " out of range");
            check(in.startPosition() + in.numTokens() <= slots.maxLength(), "seq " + in.seqId() + " runs past its slot's length");
            check(inBatch.add(slot), "two sequences share slot " + slot + " in one step");
            check(!retired.contains(in.seqId()), "seq " + in.seqId() + " came back after losing its slot (preempted?)");
            Integer had = slotOf.get(in.seqId());
            check(had == null || had == slot, "seq " + in.seqId() + " moved from slot " + had + " to " + slot);
            Long owner = slotOwner.get(slot);
            if (owner != null && owner != in.seqId()) {
                retired.add(owner);
                slotOf.remove(owner);
            }
            slotOwner.put(slot, in.seqId());
            slotOf.put(in.seqId(), slot);
        }
    }

    private static String describe(List<SequenceInput> inputs) {
        StringBuilder sb = new StringBuilder();
        for (SequenceInput in : inputs) sb.append(" seq").append(in.seqId()).append("@").append(in.startPosition()).append("+").append(in.numTokens());
        return sb.toString();
    }

    private static void check(boolean ok, String message) {
        if (!ok) throw new AssertionError(message);
    }

    @Override
    public void close() { }
}
