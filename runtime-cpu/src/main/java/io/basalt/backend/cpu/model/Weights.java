package io.basalt.backend.cpu.model;

import io.basalt.backend.cpu.kernels.DeferredPackedMatrix;
import io.basalt.backend.cpu.kernels.PackedMatrix;
import io.basalt.backend.cpu.kernels.PackedWeightCache;
import io.basalt.backend.cpu.kernels.VectorKernels;
import io.basalt.backend.cpu.kernels.WeightConversion;
import io.basalt.backend.cpu.kernels.WeightMatrices;
import io.basalt.backend.cpu.kernels.WeightMatrix;
import io.basalt.model.Checkpoint;
import io.basalt.model.DType;
import io.basalt.model.ModelFormatException;
import io.basalt.model.TensorInfo;
import io.basalt.model.layout.LoadOptions;
import io.basalt.model.layout.MatrixRef;
import io.basalt.model.layout.VectorRef;
import io.basalt.spi.Quantization;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;

/**
 * Binds checkpoint tensors to kernels, checking each shape against the model configuration.
 * Matrices are stored as {@link LoadOptions} asks (converted once into the checkpoint's arena, so
 * they are freed with it); vectors (norm scales, biases, sinks) are always fp32 on the heap.
 */
public final class Weights {
    private static final Logger LOG = Logger.getLogger("basalt.model");

    private final Checkpoint checkpoint;
    private final LoadOptions options;
    private final Map<DType, long[]> stored = new EnumMap<>(DType.class); // dtype → {matrices, bytes}
    private final List<String> notQuantized = new ArrayList<>();

    public Weights(Checkpoint checkpoint) { this(checkpoint, LoadOptions.DEFAULT); }

    public Weights(Checkpoint checkpoint, LoadOptions options) {
        this.checkpoint = checkpoint;
        this.options = options;
        this.cache = WeightCacheLocation.cacheFor(checkpoint, options);
        this.totalBytes = checkpoint.tensors().values().stream().mapToLong(t -> t.data().byteSize()).sum();
        this.deferPacking = totalBytes >= WeightCacheLocation.MIN_BYTES && !"false".equals(System.getProperty(DEFER_PACKING));
    }

    /**
     * {@code -Dbasalt.weights.defer-packing=false}: pack every float matrix before the model is ready (to measure one
     * way beside the other). By default a model of {@link WeightCacheLocation#MIN_BYTES} or more serves fp32/bf16
     * matrices from their stored rows while a background thread packs them ({@link DeferredPackedMatrix}).
     */
    static final String DEFER_PACKING = "basalt.weights.defer-packing";
    private final boolean deferPacking;

    /** Matrices to pack after the load (in bind order), and, with a cache, every packed matrix to record in it. */
    private final List<Map.Entry<String, WeightMatrix>> afterLoad = new ArrayList<>();

    // Progress of a slow load (converting or packing hundreds of MB takes seconds): a log line every few seconds.
    private static final long PROGRESS_NANOS = 3_000_000_000L;
    private final long totalBytes;
    private final long startNanos = System.nanoTime();
    private long boundBytes;
    private long lastProgressNanos = startNanos;

    private void bound(long sourceBytes) {
        boundBytes += sourceBytes;
        long now = System.nanoTime();
        if (now - lastProgressNanos < PROGRESS_NANOS) return;
        lastProgressNanos = now;
        long done = boundBytes;
        LOG.info(() -> String.format(java.util.Locale.ROOT, "loading weights: %.0f of %.0f MiB (%.0f%%) in %.0f s", done / 1048576.0,
                totalBytes / 1048576.0, 100.0 * done / Math.max(1, totalBytes), (now - startNanos) / 1e9));
    }

    /** Packed weights of earlier loads of this checkpoint with these options, or null (small model, or off). */
    private final PackedWeightCache cache;

    public Checkpoint checkpoint() { return checkpoint; }

    public LoadOptions options() { return options; }

    public boolean has(String name) { return checkpoint.has(name); }

    /** The matrix a {@link MatrixRef} names, bound as the options ask. */
    public WeightMatrix matrix(MatrixRef ref) {
        if (ref.conv1d()) return conv1d(ref.name(), ref.cols(), ref.rows());
        if (ref.totalRows() != ref.rows()) return matrixRows(ref.name(), ref.totalRows(), ref.cols(), ref.rowStart(), ref.rows());
        return ref.quantizable() ? matrix(ref.name(), ref.rows(), ref.cols()) : matrixUnquantized(ref.name(), ref.rows(), ref.cols());
    }

    /** A [rows, cols] matrix in PyTorch Linear layout (outputs × inputs). */
    public WeightMatrix matrix(String name, long rows, long cols) {
        TensorInfo t = checkpoint.tensor(name, rows, cols);
        return rowMajor(t, t.data(), rows, cols, Role.MATRIX);
    }

    /**
     * The output classifier [vocab, dim] (or the embedding tied to it). {@code --dtype bf16|f16} leave
     * it as stored: its rounding moves the logits directly and flips near-tied greedy choices (bf16
     * stories260K left llama2c's greedy text at token 185 of 200; with the classifier kept it matches
     * all 200), the reason llama.cpp's quantizer keeps output.weight at higher precision too.
     * Widening ({@code --dtype fp32}) and {@code --quantize} still apply.
     */
    public WeightMatrix classifier(MatrixRef ref) {
        if (ref.conv1d() || ref.totalRows() != ref.rows()) throw new IllegalArgumentException("a classifier is a whole [vocab, dim] matrix: " + ref.name());
        TensorInfo t = checkpoint.tensor(ref.name(), ref.rows(), ref.cols());
        return rowMajor(t, t.data(), ref.rows(), ref.cols(), Role.CLASSIFIER);
    }

    /** How a matrix's storage follows the options. */
    private enum Role { MATRIX, UNQUANTIZED, CLASSIFIER }

    /**
     * Like {@link #matrix} but never block-quantized: for MoE routers, whose few weights pick the
     * experts (llama.cpp's quantizer leaves them alone too).
     */
    public WeightMatrix matrixUnquantized(String name, long rows, long cols) {
        TensorInfo t = checkpoint.tensor(name, rows, cols);
        return rowMajor(t, t.data(), rows, cols, Role.UNQUANTIZED);
    }

    /** Rows [rowStart, rowStart + rows) of a [totalRows, cols] matrix (e.g. q, k, v out of a fused qkv). */
    public WeightMatrix matrixRows(String name, long totalRows, long cols, long rowStart, long rows) {
        TensorInfo t = checkpoint.tensor(name, totalRows, cols);
        long rowBytes = t.dtype().byteSize(cols);
        return rowMajor(t, t.data().asSlice(rowStart * rowBytes, rows * rowBytes), rows, cols, Role.MATRIX);
    }

    /**
     * A Conv1D weight stored [in, out] (GPT-2 Hugging Face layout), used as y = x·W. fp32 kept as
     * fp32 is packed straight from the columns; any other storage is converted through a transposed copy.
     */
    public WeightMatrix conv1d(String name, long in, long out) {
        TensorInfo t = checkpoint.tensor(name, in, out);
        if (!WeightConversion.isFloat(t.dtype())) {
            throw new ModelFormatException(checkpoint.path(), "tensor '" + name + "' is " + t.dtype()
                    + "; Conv1D ([in, out]) weights must be F32, F16 or BF16");
        }
        bound(t.data().byteSize());
        DType target = target(t, in, Role.MATRIX);
        String key = name + "@conv1d";
        PackedMatrix hit = cache != null && PackedMatrix.supports(target)
                ? cache.lookup(key, target, Math.toIntExact(out), Math.toIntExact(in)) : null;
        if (hit != null) {
            count(target, hit.byteSize());
            return hit;
        }
        try {
            if (target == DType.F32 && t.dtype() == DType.F32) {
                count(DType.F32, t.data().byteSize());
                return remember(key, WeightMatrices.columnMajor(t.data(), DType.F32, Math.toIntExact(in), Math.toIntExact(out), checkpoint.arena()));
            }
            WeightConversion.Stored s = WeightConversion.transpose(t.data(), t.dtype(), Math.toIntExact(in), Math.toIntExact(out),
                    target, checkpoint.arena());
            count(s.dtype(), s.data().byteSize());
            return remember(key, WeightMatrices.rowMajor(s.data(), s.dtype(), Math.toIntExact(out), Math.toIntExact(in), checkpoint.arena()));
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(checkpoint.path(), "tensor '" + name + "': " + e.getMessage(), e);
        }
    }

    private WeightMatrix rowMajor(TensorInfo t, MemorySegment data, long rows, long cols, Role role) {
        try {
            int r = Math.toIntExact(rows);
            int c = Math.toIntExact(cols);
            bound(data.byteSize());
            DType target = target(t, cols, role);
            // A slice of a fused tensor (q, k, v out of qkv) is its own entry.
            String key = t.name() + "[" + (data.address() - t.data().address()) + "+" + data.byteSize() + "]";
            if (cache != null && PackedMatrix.supports(target)) {
                PackedMatrix hit = cache.lookup(key, target, r, c);
                if (hit != null) {
                    count(target, hit.byteSize());
                    return hit;
                }
            }
            boolean quantizing = target.isQuantized() && target != t.dtype();
            if (cache != null && quantizing) { // quantized at an earlier load: map it
                MemorySegment hit = cache.lookupBytes(key, target, r, c, target.byteSize((long) r * c));
                if (hit != null) {
                    count(target, hit.byteSize());
                    return WeightMatrices.rowMajor(hit, target, r, c, checkpoint.arena());
                }
            }
            if (deferPacking && target == t.dtype() && DeferredPackedMatrix.supports(target)) {
                count(target, data.byteSize());
                return remember(key, new DeferredPackedMatrix(data, target, r, c));
            }
            WeightConversion.Stored s = target == t.dtype() ? new WeightConversion.Stored(data, target)
                    : WeightConversion.convert(data, t.dtype(), r, c, target, checkpoint.arena());
            count(s.dtype(), s.data().byteSize());
            if (cache != null && quantizing) cache.recordBytes(key, target, r, c, s.data());
            return remember(key, WeightMatrices.rowMajor(s.data(), s.dtype(), r, c, checkpoint.arena()));
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(checkpoint.path(), "tensor '" + t.name() + "': " + e.getMessage(), e);
        }
    }

    /**
     * The storage for a matrix with rows of {@code cols} elements: block-quantized tensors stay as
     * they are; Q8_0 where the rows hold whole blocks, else the float storage (noted for the summary).
     */
    private DType target(TensorInfo t, long cols, Role role) {
        DType source = t.dtype();
        if (!WeightConversion.isFloat(source)) return source; // quantized as stored, or a type the kernels reject
        if (role != Role.UNQUANTIZED && options.quantize() == Quantization.Q8_0) {
            if (WeightConversion.fits(DType.Q8_0, cols)) return DType.Q8_0;
            notQuantized.add(t.name() + Arrays.toString(t.shape()));
        }
        return switch (options.storage()) {
            case AUTO -> source;
            case FP32 -> DType.F32;
            case BF16 -> role == Role.CLASSIFIER ? source : DType.BF16;
            case F16 -> role == Role.CLASSIFIER ? source : DType.F16;
        };
    }

    private void count(DType dtype, long bytes) {
        long[] c = stored.computeIfAbsent(dtype, k -> new long[2]);
        c[0]++;
        c[1] += bytes;
    }

    /** How the matrices bound so far are stored, e.g. "24 Q8_0 (1.1 MiB), 5 F32 (0.2 MiB); not Q8_0 ...". */
    public String summary() {
        StringBuilder sb = new StringBuilder();
        stored.forEach((dtype, c) -> sb.append(sb.isEmpty() ? "" : ", ").append(c[0]).append(" ").append(dtype)
                .append(String.format(java.util.Locale.ROOT, " (%.1f MiB)", c[1] / 1048576.0)));
        if (!notQuantized.isEmpty()) {
            sb.append("; kept in float, rows not a multiple of ").append(WeightConversion.Q8_BLOCK).append(": ")
                    .append(String.join(", ", notQuantized.subList(0, Math.min(3, notQuantized.size()))))
                    .append(notQuantized.size() > 3 ? " and " + (notQuantized.size() - 3) + " more" : "");
        }
        return sb.toString();
    }

    private WeightMatrix remember(String key, WeightMatrix m) {
        if (m instanceof DeferredPackedMatrix || cache != null && m instanceof PackedMatrix) afterLoad.add(Map.entry(key, m));
        return m;
    }

    /**
     * Called once every matrix is bound: packs the deferred matrices, then writes the packed weights to the cache
     * after a load that had to pack them, and logs {@link #summary()}. Both run on a thread of their own, the
     * deferred matrices serving from their stored rows meanwhile: the model is ready before it ends (a 1B bf16
     * model's 2.2 GB took 6 s to write on its first start). With a cache to write the JVM waits for the thread at
     * exit, so a one-shot run still leaves the cache for the next.
     */
    public void finish() {
        boolean write = cache != null && !cache.hit();
        if (cache != null && cache.hit()) LOG.fine(() -> "packed weights mapped from " + cache.file());
        List<Map.Entry<String, WeightMatrix>> todo = List.copyOf(afterLoad);
        afterLoad.clear();
        long deferred = todo.stream().filter(e -> e.getValue() instanceof DeferredPackedMatrix).count();
        if (write || deferred > 0) {
            synchronized (BACKGROUND) { background++; }
            Thread.ofPlatform().name("basalt-weight-packer").daemon(!write).start(() -> {
                try {
                    if (deferred > 0) DeferredPackedMatrix.awaitPackingCue(100_000_000L, 3_000_000_000L, 2_000_000_000L);
                    long t0 = System.nanoTime();
                    for (Map.Entry<String, WeightMatrix> e : todo) {
                        PackedMatrix p = e.getValue() instanceof DeferredPackedMatrix d ? d.pack(checkpoint.arena()) : (PackedMatrix) e.getValue();
                        if (cache != null) cache.record(e.getKey(), p);
                    }
                    if (deferred > 0) LOG.info(() -> String.format(java.util.Locale.ROOT, "packed %d matrices in the background in %.1f s",
                            deferred, (System.nanoTime() - t0) / 1e9));
                    if (write && cache.commit()) LOG.info(() -> "packed weights cached in " + cache.file());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } catch (RuntimeException e) {
                    if (!checkpoint.arena().scope().isAlive()) { // the model closed first: its weights are gone, nothing to keep
                        LOG.fine(() -> "model closed before its weights were packed or cached: " + e);
                    } else {
                        LOG.warning("could not pack or cache the weights" + (cache != null ? " in " + cache.file() : "") + ": " + e);
                    }
                } finally {
                    synchronized (BACKGROUND) {
                        background--;
                        BACKGROUND.notifyAll();
                    }
                }
            });
        }
        // What the weights became is the first thing to know about a model's speed and memory: always said.
        LOG.info(() -> "weights " + options.describe() + ": " + summary());
    }

    private static final Object BACKGROUND = new Object();
    private static int background; // packer threads of this JVM still running (guarded by BACKGROUND)

    /**
     * Waits until every model loaded in this JVM has packed its deferred matrices and written its cache: a benchmark
     * times the model as it serves once its start is over, not while a packer shares the cores.
     */
    public static void awaitBackgroundPacking() throws InterruptedException {
        synchronized (BACKGROUND) {
            while (background > 0) BACKGROUND.wait();
        }
    }

    /** A small tensor (norm scales, biases, sinks) converted to fp32 on the heap; shape must match. */
    public float[] vector(String name, long... shape) { return vector(VectorRef.of(name, shape)); }

    /** Elements [start, start + n) of a tensor, flattened, as fp32. */
    public float[] vectorSlice(String name, long[] shape, long start, int n) {
        return vector(VectorRef.slice(name, shape, start, n));
    }

    public float[] vector(VectorRef ref) { return ref.read(checkpoint); }
}
