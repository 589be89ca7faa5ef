package io.basalt.backend.cuda;

import io.basalt.backend.cuda.Cuda.DeviceBuffer;
import io.basalt.backend.cuda.Cuda.Dim;
import io.basalt.backend.cuda.Cuda.Function;
import io.basalt.backend.cuda.Cuda.Module;
import io.basalt.backend.cuda.Cuda.Stream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The launcher of our kernels (kernels/cuda/kernels.abi): one typed method per ABI line, which computes the grid and
 * block from the line's formula and passes the arguments in the line's order. {@link #ABI} repeats the lines; every
 * launch checks its arguments against them (so a wrong order or type fails here, in Java, with the kernel's name,
 * instead of as garbage on the device), and KernelsAbiTest checks that they equal the ABI file.
 */
final class Kernels implements AutoCloseable {
    static final String FATBIN = "/kernels/cuda/basalt.fatbin";
    static final String NO_GPU_CODE = "this build has no GPU code (nvcc was not found when it was built)";

    /** The ABI lines this launcher implements, verbatim but for spacing. */
    static final String ABI = """
            basalt_embed(out:ptr, table:ptr, table_bf16:i32, ids:ptr, n:i32, dim:i32) grid(n) block(256)
            basalt_add(x:ptr, y:ptr, count:i64) grid(CEIL(count,256)) block(256)
            basalt_rmsnorm(out:ptr, x:ptr, w:ptr, n:i32, dim:i32, eps:f32) grid(n) block(256)
            basalt_layernorm(out:ptr, x:ptr, w:ptr, b:ptr, n:i32, dim:i32, eps:f32) grid(n) block(256)
            basalt_matmul(y:ptr, w:ptr, w_bf16:i32, x:ptr, bias:ptr/opt, rows:i32, cols:i32, n:i32) grid(CEIL(rows,4), CEIL(n,8)) block(128)
            basalt_rope(x:ptr, stride:i32, offset:i32, pos:ptr, inv_freq:ptr, mscale:f32, n:i32, heads:i32, head_dim:i32, rotary_dims:i32, half_split:i32) grid(n, heads) block(64)
            basalt_kv_store(k_cache:ptr, v_cache:ptr, src:ptr, src_stride:i32, k_offset:i32, v_offset:i32, slots:ptr, n:i32, kv_dim:i32) grid(n) block(256)
            basalt_attention(out:ptr, q:ptr, q_stride:i32, q_offset:i32, k_cache:ptr, v_cache:ptr, block_tables:ptr, max_blocks:i32, row_seq:ptr, row_pos:ptr, n:i32, heads:i32, kv_heads:i32, head_dim:i32, block_size:i32, scale:f32, window:i32, sinks:ptr/opt) grid(n, kv_heads) block(128)
            basalt_attention_split(part_acc:ptr, part_ml:ptr, q:ptr, q_stride:i32, q_offset:i32, k_cache:ptr, v_cache:ptr, block_tables:ptr, max_blocks:i32, row_seq:ptr, row_pos:ptr, n:i32, heads:i32, kv_heads:i32, head_dim:i32, block_size:i32, scale:f32, window:i32, splits:i32, split_len:i32) grid(n, kv_heads, splits) block(128)
            basalt_attention_reduce(out:ptr, part_acc:ptr, part_ml:ptr, n:i32, heads:i32, head_dim:i32, splits:i32, sinks:ptr/opt) grid(n, heads) block(128)
            basalt_gelu(x:ptr, count:i64) grid(CEIL(count,256)) block(256)
            basalt_swiglu(out:ptr, gate:ptr, up:ptr, count:i64) grid(CEIL(count,256)) block(256)
            basalt_swiglu_oss(out:ptr, gate_up:ptr, n:i32, ff:i32, limit:f32) grid(CEIL(n*ff,256)) block(256)
            basalt_to_bf16(out:ptr, x:ptr, count:i64) grid(CEIL(count,256)) block(256)
            basalt_moe_topk(ids:ptr, weights:ptr, logits:ptr, n:i32, experts:i32, k:i32) grid(n) block(32)
            basalt_mxfp4_matmul(y:ptr, blocks:ptr, scales:ptr, bias:ptr/opt, x:ptr, x_per_slot:i32, expert_ids:ptr, n:i32, k:i32, rows:i32, cols:i32) grid(CEIL(rows,4), n*k) block(128)
            basalt_moe_combine(out:ptr, y:ptr, weights:ptr, n:i32, k:i32, dim:i32) grid(n) block(256)
            basalt_gather(out:ptr, x:ptr, rows:ptr, n:i32, dim:i32) grid(n) block(256)
            basalt_argmax(out:ptr, logits:ptr, n:i32, vocab:i32) grid(n) block(256)
            basalt_read_probe(out:ptr, x:ptr, count:i64) grid(1024) block(256)
            """;

    /** One parameter: its name, type (ptr, i32, i64, f32) and whether 0 may stand for it (ptr/opt). */
    record Param(String name, String type, boolean optional) { }

    /** One kernel: its parameters in order and its launch formula as the ABI writes it ("grid(n) block(256)"). */
    record Descriptor(String name, List<Param> params, String geometry) { }

    private static final Pattern LINE = Pattern.compile("^(\\w+)\\((.*?)\\)\\s+(grid\\(.*\\)\\s+block\\(.*\\))\\s*$");

    static final Map<String, Descriptor> DESCRIPTORS = parse(ABI);

    /** Parses ABI lines (the format of kernels.abi; # comments and blank lines skipped), in file order. */
    static Map<String, Descriptor> parse(String text) {
        Map<String, Descriptor> out = new LinkedHashMap<>();
        for (String raw : text.split("\n")) {
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#")) continue;
            Matcher m = LINE.matcher(line);
            if (!m.matches()) throw new IllegalArgumentException("not an ABI line: " + line);
            List<Param> params = new ArrayList<>();
            for (String p : m.group(2).split(",")) {
                String[] nt = p.strip().split(":");
                String type = nt[1].strip();
                boolean opt = type.endsWith("/opt");
                params.add(new Param(nt[0].strip(), opt ? type.substring(0, type.length() - 4) : type, opt));
            }
            String geometry = m.group(3).replaceAll("\\s+", " ").replace(", ", ",");
            if (out.put(m.group(1), new Descriptor(m.group(1), List.copyOf(params), geometry)) != null) {
                throw new IllegalArgumentException("kernel " + m.group(1) + " twice in the ABI");
            }
        }
        return out;
    }

    private static final Dim B32 = Dim.of(32);
    private static final Dim B64 = Dim.of(64);
    private static final Dim B128 = Dim.of(128);
    private static final Dim B256 = Dim.of(256);

    private final Cuda cuda;
    private final Module module;
    private final Map<String, Function> functions = new HashMap<>();

    private Kernels(Cuda cuda, Module module) {
        this.cuda = cuda;
        this.module = module;
        for (String name : DESCRIPTORS.keySet()) functions.put(name, cuda.function(module, name));
    }

    /** Loads the jar's fatbin into the current context and looks every kernel up once. */
    static Kernels load(Cuda cuda) {
        byte[] image = fatbin();
        Module module;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(image.length + 1L, 16); // + a NUL: PTX images must end in one
            MemorySegment.copy(MemorySegment.ofArray(image), 0, seg, 0, image.length);
            module = cuda.loadModule(seg);
        }
        try {
            return new Kernels(cuda, module);
        } catch (RuntimeException e) {
            cuda.unload(module);
            throw e;
        }
    }

    /** Whether this build packed GPU code (nvcc was present). */
    static boolean hasFatbin() { return Kernels.class.getResource(FATBIN) != null; }

    private static byte[] fatbin() {
        try (InputStream in = Kernels.class.getResourceAsStream(FATBIN)) {
            if (in == null) throw new IllegalStateException(NO_GPU_CODE);
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + FATBIN + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() { cuda.unload(module); }

    private static int ceil(long a, int b) { return Math.toIntExact((a + b - 1) / b); }

    /** Checks the arguments against the kernel's ABI line, then launches. */
    private void launch(String name, Dim grid, Dim block, Stream s, Object... args) {
        Descriptor d = DESCRIPTORS.get(name);
        if (args.length != d.params().size()) {
            throw new IllegalArgumentException(name + " takes " + d.params().size() + " arguments, got " + args.length);
        }
        for (int i = 0; i < args.length; i++) {
            Param p = d.params().get(i);
            Object a = args[i];
            boolean ok = switch (p.type()) {
                case "ptr" -> a instanceof DeviceBuffer || (a == null && p.optional());
                case "i32" -> a instanceof Integer;
                case "i64" -> a instanceof Long;
                case "f32" -> a instanceof Float;
                default -> false;
            };
            if (!ok) {
                throw new IllegalArgumentException(name + " parameter " + i + " (" + p.name() + ":" + p.type()
                        + (p.optional() ? "/opt" : "") + ") got " + (a == null ? "null" : a.getClass().getSimpleName()));
            }
        }
        if (grid.x() <= 0 || grid.y() <= 0 || grid.z() <= 0) throw new IllegalArgumentException(name + " launched with an empty grid " + grid);
        cuda.launch(functions.get(name), grid, block, 0, s, args);
    }

    private static int flag(boolean b) { return b ? 1 : 0; }

    void embed(Stream s, DeviceBuffer out, DeviceBuffer table, boolean tableBf16, DeviceBuffer ids, int n, int dim) {
        launch("basalt_embed", Dim.of(n), B256, s, out, table, flag(tableBf16), ids, n, dim);
    }

    void add(Stream s, DeviceBuffer x, DeviceBuffer y, long count) {
        launch("basalt_add", Dim.of(ceil(count, 256)), B256, s, x, y, count);
    }

    void rmsnorm(Stream s, DeviceBuffer out, DeviceBuffer x, DeviceBuffer w, int n, int dim, float eps) {
        launch("basalt_rmsnorm", Dim.of(n), B256, s, out, x, w, n, dim, eps);
    }

    void layernorm(Stream s, DeviceBuffer out, DeviceBuffer x, DeviceBuffer w, DeviceBuffer b, int n, int dim, float eps) {
        launch("basalt_layernorm", Dim.of(n), B256, s, out, x, w, b, n, dim, eps);
    }

    void matmul(Stream s, DeviceBuffer y, DeviceBuffer w, boolean wBf16, DeviceBuffer x, DeviceBuffer bias, int rows, int cols, int n) {
        launch("basalt_matmul", Dim.of(ceil(rows, 4), ceil(n, 8)), B128, s, y, w, flag(wBf16), x, bias, rows, cols, n);
    }

    void rope(Stream s, DeviceBuffer x, int stride, int offset, DeviceBuffer pos, DeviceBuffer invFreq, float mscale, int n, int heads,
              int headDim, int rotaryDims, boolean halfSplit) {
        launch("basalt_rope", Dim.of(n, heads), B64, s, x, stride, offset, pos, invFreq, mscale, n, heads, headDim, rotaryDims, flag(halfSplit));
    }

    void kvStore(Stream s, DeviceBuffer kCache, DeviceBuffer vCache, DeviceBuffer src, int srcStride, int kOffset, int vOffset,
                 DeviceBuffer slots, int n, int kvDim) {
        launch("basalt_kv_store", Dim.of(n), B256, s, kCache, vCache, src, srcStride, kOffset, vOffset, slots, n, kvDim);
    }

    void attention(Stream s, DeviceBuffer out, DeviceBuffer q, int qStride, int qOffset, DeviceBuffer kCache, DeviceBuffer vCache,
                   DeviceBuffer blockTables, int maxBlocks, DeviceBuffer rowSeq, DeviceBuffer rowPos, int n, int heads, int kvHeads,
                   int headDim, int blockSize, float scale, int window, DeviceBuffer sinks) {
        launch("basalt_attention", Dim.of(n, kvHeads), B128, s, out, q, qStride, qOffset, kCache, vCache, blockTables, maxBlocks,
                rowSeq, rowPos, n, heads, kvHeads, headDim, blockSize, scale, window, sinks);
    }

    void attentionSplit(Stream s, DeviceBuffer partAcc, DeviceBuffer partMl, DeviceBuffer q, int qStride, int qOffset, DeviceBuffer kCache,
                        DeviceBuffer vCache, DeviceBuffer blockTables, int maxBlocks, DeviceBuffer rowSeq, DeviceBuffer rowPos, int n,
                        int heads, int kvHeads, int headDim, int blockSize, float scale, int window, int splits, int splitLen) {
        launch("basalt_attention_split", new Dim(n, kvHeads, splits), B128, s, partAcc, partMl, q, qStride, qOffset, kCache, vCache,
                blockTables, maxBlocks, rowSeq, rowPos, n, heads, kvHeads, headDim, blockSize, scale, window, splits, splitLen);
    }

    void attentionReduce(Stream s, DeviceBuffer out, DeviceBuffer partAcc, DeviceBuffer partMl, int n, int heads, int headDim, int splits,
                         DeviceBuffer sinks) {
        launch("basalt_attention_reduce", Dim.of(n, heads), B128, s, out, partAcc, partMl, n, heads, headDim, splits, sinks);
    }

    void gelu(Stream s, DeviceBuffer x, long count) {
        launch("basalt_gelu", Dim.of(ceil(count, 256)), B256, s, x, count);
    }

    void swiglu(Stream s, DeviceBuffer out, DeviceBuffer gate, DeviceBuffer up, long count) {
        launch("basalt_swiglu", Dim.of(ceil(count, 256)), B256, s, out, gate, up, count);
    }

    void swigluOss(Stream s, DeviceBuffer out, DeviceBuffer gateUp, int n, int ff, float limit) {
        launch("basalt_swiglu_oss", Dim.of(ceil((long) n * ff, 256)), B256, s, out, gateUp, n, ff, limit);
    }

    /** out[i] = x[i] rounded to bf16 (nearest even; a NaN stays NaN), out as uint16 [count]: cuBLASLt's bf16 input. */
    void toBf16(Stream s, DeviceBuffer out, DeviceBuffer x, long count) {
        launch("basalt_to_bf16", Dim.of(ceil(count, 256)), B256, s, out, x, count);
    }

    void moeTopk(Stream s, DeviceBuffer ids, DeviceBuffer weights, DeviceBuffer logits, int n, int experts, int k) {
        launch("basalt_moe_topk", Dim.of(n), B32, s, ids, weights, logits, n, experts, k);
    }

    void mxfp4Matmul(Stream s, DeviceBuffer y, DeviceBuffer blocks, DeviceBuffer scales, DeviceBuffer bias, DeviceBuffer x, boolean xPerSlot,
                     DeviceBuffer expertIds, int n, int k, int rows, int cols) {
        launch("basalt_mxfp4_matmul", Dim.of(ceil(rows, 4), Math.multiplyExact(n, k)), B128, s, y, blocks, scales, bias, x, flag(xPerSlot),
                expertIds, n, k, rows, cols);
    }

    void moeCombine(Stream s, DeviceBuffer out, DeviceBuffer y, DeviceBuffer weights, int n, int k, int dim) {
        launch("basalt_moe_combine", Dim.of(n), B256, s, out, y, weights, n, k, dim);
    }

    void gather(Stream s, DeviceBuffer out, DeviceBuffer x, DeviceBuffer rows, int n, int dim) {
        launch("basalt_gather", Dim.of(n), B256, s, out, x, rows, n, dim);
    }

    void argmax(Stream s, DeviceBuffer out, DeviceBuffer logits, int n, int vocab) {
        launch("basalt_argmax", Dim.of(n), B256, s, out, logits, n, vocab);
    }

    void readProbe(Stream s, DeviceBuffer out, DeviceBuffer x, long count) {
        launch("basalt_read_probe", Dim.of(1024), B256, s, out, x, count);
    }
}
