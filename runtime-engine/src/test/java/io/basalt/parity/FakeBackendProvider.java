package io.basalt.parity;

import io.basalt.spi.Architecture;
import io.basalt.spi.Backend;
import io.basalt.spi.BackendProvider;
import io.basalt.spi.Batch;
import io.basalt.spi.Capabilities;
import io.basalt.spi.KvLayout;
import io.basalt.spi.ModelRunner;
import io.basalt.spi.ModelSpec;
import io.basalt.spi.SequenceInput;
import io.basalt.spi.SequenceOutput;
import io.basalt.spi.ShapePolicy;
import io.basalt.spi.StepOutput;
import io.basalt.spi.StorageDtype;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A backend that is not the CPU one, found by name ({@value #NAME}) through the ServiceLoader like
 * any other: its "model" makes logits and hidden states from the tokens it reads back through the
 * block table (a paged KV of token ids), so a wrong block table or position shows in the numbers.
 * {@code --dtype bf16} rounds its outputs to bfloat16, like a lower-precision device would.
 */
public final class FakeBackendProvider implements BackendProvider {
    public static final String NAME = "parity-fake";
    public static final int VOCAB = 40;
    public static final int LAYERS = 2;
    public static final int HIDDEN = 6;
    public static final int BLOCK = 4;

    @Override public String name() { return NAME; }

    @Override public boolean isAvailable() { return true; }

    @Override public Backend open() { return new FakeBackend(); }

    static final class FakeBackend implements Backend {
        @Override public String name() { return NAME; }

        @Override
        public ModelRunner load(Path model, LoadConfig config) {
            return new FakeRunner(config.storage() == StorageDtype.BF16, (int) Math.max(1, config.kvCacheMemoryBytes() / (BLOCK * 4)));
        }
    }

    static final class FakeRunner implements ModelRunner {
        final boolean bf16;
        final int[][] kv;
        final List<Batch> batches = new ArrayList<>();

        FakeRunner(boolean bf16, int blocks) {
            this.bf16 = bf16;
            this.kv = new int[Math.min(blocks, 1024)][BLOCK];
        }

        @Override public ModelSpec spec() { return new ModelSpec(Architecture.LLAMA, VOCAB, 256, LAYERS, HIDDEN, 4); }

        @Override
        public Capabilities capabilities() {
            return new Capabilities(new ShapePolicy.Dynamic(), true, new KvLayout.Paged(BLOCK), kv.length, false);
        }

        @Override
        public StepOutput execute(Batch batch) {
            batches.add(batch);
            List<SequenceOutput> logits = new ArrayList<>();
            List<float[][][]> hidden = new ArrayList<>();
            for (SequenceInput in : batch.sequences()) {
                float[][][] h = new float[LAYERS][in.numTokens()][];
                float[] last = null;
                for (int i = 0; i < in.numTokens(); i++) {
                    int pos = in.startPosition() + i;
                    kv[in.blockTable()[pos / BLOCK]][pos % BLOCK] = in.tokenIds()[i];
                    double context = 0;
                    for (int q = 0; q <= pos; q++) context += (q + 1) * 0.37 * kv[in.blockTable()[q / BLOCK]][q % BLOCK];
                    last = new float[VOCAB];
                    for (int v = 0; v < VOCAB; v++) last[v] = round((float) (3 * Math.sin(0.7 * v + 0.13 * context + 0.05 * pos)));
                    for (int l = 0; l < LAYERS; l++) {
                        h[l][i] = new float[HIDDEN];
                        for (int j = 0; j < HIDDEN; j++) h[l][i][j] = round((float) Math.cos(0.3 * j + l + 0.01 * context));
                    }
                }
                logits.add(in.needLogits() ? new SequenceOutput.Logits(last) : SequenceOutput.NONE);
                hidden.add(batch.hiddenStates() == Batch.HiddenStates.PER_LAYER ? h : null);
            }
            return new StepOutput(logits, batch.hiddenStates() == Batch.HiddenStates.PER_LAYER ? hidden : List.of());
        }

        private float round(float x) {
            if (!bf16) return x;
            int bits = Float.floatToIntBits(x);
            return Float.intBitsToFloat((bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000);
        }

        @Override public void close() { }
    }
}
