package io.basalt.bench.kernels;

import io.basalt.backend.cpu.kernels.WeightConversion;
import io.basalt.backend.cpu.kernels.WeightMatrices;
import io.basalt.backend.cpu.kernels.WeightMatrix;
import io.basalt.model.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One weight-matrix product y = W·x for a batch of activation rows, through the same kernels the
 * models use (packed panels for fp32/bf16/f16, row blocks for Q8_0 and Q4_0), on all cores. Q4_0
 * matrices are random blocks (the runtime only reads Q4_0, from GGUF files; it does not quantize to it).
 * Shapes: GPT-2's MLP up-projection (3072 × 768) and a 1B-class FFN matrix (5632 × 2048).
 * Read the result as: bytes/s = rows·cols·bytesPerElement / time (batch 1: compare with the machine's
 * read bandwidth) and FLOP/s = 2·rows·cols·batch / time (batches: compare with the FMA peak).
 * Several copies of the matrix are cycled so each call streams from DRAM, not the L3.
 *
 * <p>Run: {@code java --add-modules=jdk.incubator.vector -cp benchmarks/target/classes:... org.openjdk.jmh.Main MatmulBench}
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class MatmulBench {
    @Param({"3072x768", "5632x2048"})
    public String shape;

    @Param({"F32", "BF16", "F16", "Q8_0", "Q4_0"})
    public String dtype;

    @Param({"1", "16", "64", "512"})
    public int batch;

    private Arena arena;
    private WeightMatrix[] copies;
    private float[][] x;
    private float[][] y;
    private int next;

    @Setup
    public void setUp() {
        String[] rc = shape.split("x");
        int rows = Integer.parseInt(rc[0]);
        int cols = Integer.parseInt(rc[1]);
        DType target = DType.valueOf(dtype);
        arena = Arena.ofShared();
        long bytes = (long) rows * cols * target.byteSize(32) / 32;
        int n = (int) Math.max(1, Math.min(16, (256L << 20) / bytes)); // ≥ 256 MiB in all, beyond any L3
        copies = new WeightMatrix[n];
        SplittableRandom rnd = new SplittableRandom(42);
        for (int c = 0; c < n; c++) {
            if (target == DType.Q4_0) {
                copies[c] = WeightMatrices.rowMajor(randomQ4_0(rows, cols, rnd), DType.Q4_0, rows, cols, arena);
                continue;
            }
            MemorySegment f32 = arena.allocate(4L * rows * cols, 64);
            for (long i = 0; i < (long) rows * cols; i++) f32.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, (float) (rnd.nextGaussian() * 0.02));
            WeightConversion.Stored s = target == DType.F32 ? new WeightConversion.Stored(f32, DType.F32)
                    : WeightConversion.convert(f32, DType.F32, rows, cols, target, arena);
            copies[c] = WeightMatrices.rowMajor(s.data(), s.dtype(), rows, cols, arena);
        }
        x = new float[batch][cols];
        for (float[] row : x) for (int i = 0; i < cols; i++) row[i] = (float) rnd.nextGaussian();
        y = new float[batch][rows];
    }

    /** GGML Q4_0 blocks (fp16 scale, 16 bytes of nibble pairs) of random nibbles and scales near 0.02 / 8. */
    private MemorySegment randomQ4_0(int rows, int cols, SplittableRandom rnd) {
        long blocks = (long) rows * cols / 32;
        MemorySegment q = arena.allocate(18 * blocks, 64);
        for (long b = 0; b < blocks; b++) {
            q.set(ValueLayout.JAVA_SHORT_UNALIGNED, 18 * b, Float.floatToFloat16((float) (0.0025 * (0.5 + rnd.nextDouble()))));
            for (int j = 0; j < 16; j++) q.set(ValueLayout.JAVA_BYTE, 18 * b + 2 + j, (byte) rnd.nextInt(256));
        }
        return q;
    }

    @TearDown
    public void tearDown() { arena.close(); }

    @Benchmark
    public float[][] matmul() {
        WeightMatrix m = copies[next];
        next = (next + 1) % copies.length;
        m.matmul(x, y);
        return y;
    }
}
