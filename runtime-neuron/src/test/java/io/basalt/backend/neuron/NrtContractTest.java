package io.basalt.backend.neuron;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Nrt and the bridge against the stand-in libnrt (docs/NEURON.md §2 and §4). */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class NrtContractTest {
    /** HARDWARE.md §1.2's status table, without NRT_SUCCESS. */
    static final Map<Integer, String> STATUSES = new LinkedHashMap<>();

    static {
        String[] names = {"NRT_FAILURE", "NRT_INVALID", "NRT_INVALID_HANDLE", "NRT_RESOURCE", "NRT_TIMEOUT",
            "NRT_HW_ERROR", "NRT_QUEUE_FULL", "NRT_LOAD_NOT_ENOUGH_NC", "NRT_UNSUPPORTED_NEFF_VERSION",
            "NRT_FAIL_HOST_MEM_ALLOC", "NRT_UNINITIALIZED", "NRT_CLOSED", "NRT_QUEUE_EMPTY",
            "NRT_EXEC_UNIT_UNRECOVERABLE", "NRT_EXEC_BAD_INPUT", "NRT_EXEC_COMPLETED_WITH_NUM_ERR",
            "NRT_EXEC_COMPLETED_WITH_ERR", "NRT_EXEC_NC_BUSY", "NRT_EXEC_OOB", "NRT_COLL_PENDING",
            "NRT_EXEC_HW_ERR_COLLECTIVES", "NRT_EXEC_HW_ERR_HBM_UE", "NRT_EXEC_HW_ERR_NC_UE",
            "NRT_EXEC_HW_ERR_DMA_ABORT", "NRT_EXEC_SW_NQ_OVERFLOW", "NRT_EXEC_HW_ERR_REPAIRABLE_HBM_UE",
            "NRT_NETWORK_PROXY_FAILURE"};
        int[] values = {1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 13, 14, 15, 101, 1002, 1003, 1004, 1005, 1006, 1100, 1200,
            1201, 1202, 1203, 1204, 1205, 1206};
        for (int i = 0; i < values.length; i++) STATUSES.put(values[i], names[i]);
    }

    /** The stand-in's test exports, through FFM on the same file the bridge dlopened (so the same instance). */
    static final class Standin {
        static final Path PATH = Path.of(System.getProperty(Nrt.LIBRARY_PROPERTY));
        private static final SymbolLookup LIB = SymbolLookup.libraryLookup(PATH, Arena.global());
        private static final Linker LINKER = Linker.nativeLinker();
        private static final MethodHandle FAIL = LINKER.downcallHandle(LIB.findOrThrow("basalt_standin_fail"),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
        private static final MethodHandle LOG = LINKER.downcallHandle(LIB.findOrThrow("basalt_standin_log"),
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
        private static final MethodHandle RESET = LINKER.downcallHandle(LIB.findOrThrow("basalt_standin_reset"),
                FunctionDescriptor.ofVoid());

        static void fail(String call, int status, int skip) {
            try (Arena arena = Arena.ofConfined()) {
                assertEquals(0, (int) FAIL.invokeExact(arena.allocateFrom(call), status, skip));
            } catch (Throwable t) {
                throw new AssertionError(t);
            }
        }

        static String log() {
            try (Arena arena = Arena.ofConfined()) {
                long n = (long) LOG.invokeExact(MemorySegment.NULL, 0L);
                MemorySegment buf = arena.allocate(n + 1);
                long again = (long) LOG.invokeExact(buf, n + 1);
                assertEquals(n, again);
                return buf.getString(0, StandardCharsets.UTF_8);
            } catch (Throwable t) {
                throw new AssertionError(t);
            }
        }

        static void reset() {
            try {
                RESET.invokeExact();
            } catch (Throwable t) {
                throw new AssertionError(t);
            }
        }
    }

    private Nrt nrt;

    @BeforeEach
    void open() {
        Standin.reset();
        nrt = Nrt.open(null);
    }

    @AfterEach
    void close() {
        nrt.close();
        Standin.reset();
    }

    private static final StandinNeff.Graph PREFILL = StandinNeff.Graph.tiny("prefill", 2, 4, 4, 1);

    private Nrt.Model loadPrefill() {
        return nrt.load(StandinNeff.direct(StandinNeff.neff("prefill_b2_l4", PREFILL)), 0);
    }

    /** A prefill that reads token 1 at position 0 for both rows, slot 0: valid inputs over zero weights. */
    private StandinRank ready(Nrt.Model model) {
        StandinRank r = new StandinRank(nrt, model, StandinNeff.specs(PREFILL), 0, new HashMap<>());
        r.writeInts("input_ids", 1, 0, 0, 0, 1, 0, 0, 0);
        r.writeInts("attention_mask", 1, 0, 0, 0, 1, 0, 0, 0);
        r.writeInts("position_ids", 0, 1, 2, 3, 0, 1, 2, 3);
        r.writeInts("seq_ids", 0, 0);
        return r;
    }

    private static NrtException nrtError(int status, String call, org.junit.jupiter.api.function.Executable body) {
        NrtException e = assertThrows(NrtException.class, body);
        assertEquals(status, e.status(), e.getMessage());
        assertEquals(call, e.call());
        assertEquals(call + " failed: " + STATUSES.get(status) + " (" + status + ")", e.getMessage());
        return e;
    }

    @Test
    void versionAndCoresBeforeInit() {
        Nrt.Version v = nrt.version();
        assertEquals(2, v.major());
        assertEquals("basalt-standin", v.detail());
        assertEquals("standin", v.gitHash());
        assertEquals(2, nrt.visibleCores());
        assertEquals(Standin.PATH, nrt.library());
    }

    @Test
    void tensorInfoReportsTheDescription() {
        nrt.init();
        Nrt.Model model = loadPrefill();
        List<Nrt.TensorInfo> infos = nrt.tensorInfo(model);
        List<StandinNeff.Spec> specs = StandinNeff.specs(PREFILL);
        assertEquals(specs.size(), infos.size());
        for (int i = 0; i < specs.size(); i++) {
            StandinNeff.Spec s = specs.get(i);
            Nrt.TensorInfo t = infos.get(i);
            assertEquals(s.name(), t.name());
            assertEquals(s.input(), t.input(), s.name());
            assertEquals(s.bytes(), t.size(), s.name());
            assertEquals(switch (s.dtype()) { case "int32" -> 0x8; case "f32" -> 0xA; default -> 0x6; }, t.dtype(), s.name());
            assertArrayEquals(s.shape(), t.shape(), s.name());
        }
        assertEquals("output0", infos.stream().filter(t -> !t.input()).findFirst().orElseThrow().name());
        nrt.unload(model);
    }

    @Test
    void bf16WeightsReportTheBf16Code() {
        nrt.init();
        StandinNeff.Graph g = PREFILL.withWeightDtype("bf16");
        Nrt.Model model = nrt.load(StandinNeff.direct(StandinNeff.neff("bf16", g)), 1);
        Nrt.TensorInfo emb = nrt.tensorInfo(model).get(4);
        assertEquals(0x6, emb.dtype());
        assertEquals(16L * 8 * 2, emb.size());
        nrt.unload(model);
    }

    @Test
    void writeReadRoundTripAtAnOffset() {
        nrt.init();
        Nrt.Tensor t = nrt.allocate(0, 64, "scratch");
        assertEquals(64, t.size());
        ByteBuffer src = ByteBuffer.allocateDirect(16).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 4; i++) src.putInt(i * 4, 100 + i);
        nrt.write(t, 32, src);
        assertEquals(0, src.position(), "the source's position does not move");
        ByteBuffer dst = ByteBuffer.allocateDirect(64).order(ByteOrder.LITTLE_ENDIAN);
        nrt.read(t, 0, dst);
        for (int i = 0; i < 8; i++) assertEquals(0, dst.getInt(i * 4), "untouched bytes read back as zero");
        for (int i = 0; i < 4; i++) assertEquals(100 + i, dst.getInt(32 + i * 4));
        nrtError(2, "nrt_tensor_write", () -> nrt.write(t, 56, src));
        assertThrows(IllegalArgumentException.class, () -> nrt.write(t, 0, ByteBuffer.allocate(4)));
        nrt.free(t);
    }

    @Test
    void copyMovesBytesOnOneCoreAndRefusesAnother() {
        nrt.init();
        Nrt.Tensor t = nrt.allocate(0, 64, "slots");
        ByteBuffer src = ByteBuffer.allocateDirect(16).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 4; i++) src.putInt(i * 4, 7 + i);
        nrt.write(t, 0, src);
        nrt.copy(t, 0, t, 48, 16); // slot 0 into slot 3 of the same tensor
        ByteBuffer dst = ByteBuffer.allocateDirect(16).order(ByteOrder.LITTLE_ENDIAN);
        nrt.read(t, 48, dst);
        for (int i = 0; i < 4; i++) assertEquals(7 + i, dst.getInt(i * 4));
        Nrt.Tensor other = nrt.allocate(1, 64, "other core");
        nrtError(2, "nrt_tensor_copy", () -> nrt.copy(t, 0, other, 0, 16));
        nrtError(2, "nrt_tensor_copy", () -> nrt.copy(t, 56, t, 0, 16));
        nrt.free(other);
        nrt.free(t);
        assertThrows(IllegalStateException.class, () -> nrt.copy(t, 0, t, 16, 16));
    }

    @Test
    void executeWritesLogitsAndLogsTheStep() {
        nrt.init();
        Nrt.Model model = loadPrefill();
        StandinRank r = ready(model);
        r.execute();
        float[] logits = r.readFloats("logits");
        assertEquals(2 * 16, logits.length);
        for (float l : logits) assertEquals(0f, l, "zero weights give zero logits");
        assertEquals("prefill_b2_l4 prefill batch=2 length=4 kv_length=4 rank=0\n", Standin.log());
        nrt.unload(model);
    }

    @Test
    void everyStatusBecomesAnNrtExceptionNamingItAndTheCall() {
        nrt.init();
        for (Map.Entry<Integer, String> s : STATUSES.entrySet()) {
            Standin.fail("nrt_allocate_tensor_set", s.getKey(), 0);
            nrtError(s.getKey(), "nrt_allocate_tensor_set", nrt::newTensorSet);
        }
        Nrt.TensorSet set = nrt.newTensorSet(); // the injections were used up, one each
        nrt.destroy(set);

        Standin.fail("nrt_get_version", 1004, 0);
        nrtError(1004, "nrt_get_version", nrt::version);
        Standin.fail("nrt_get_visible_vnc_count", 6, 0);
        nrtError(6, "nrt_get_visible_vnc_count", nrt::visibleCores);
        Standin.fail("nrt_load", 9, 0);
        nrtError(9, "nrt_load", this::loadPrefill);
        Nrt.Model model = loadPrefill();
        StandinRank r = ready(model);
        Standin.fail("nrt_execute", 1002, 1); // after one more successful execute
        r.execute();
        nrtError(1002, "nrt_execute", r::execute);
        r.execute();
        Standin.fail("nrt_tensor_read", 1201, 0);
        nrtError(1201, "nrt_tensor_read", () -> r.readFloats("logits"));
        Standin.fail("nrt_get_model_tensor_info", 4, 0);
        nrtError(4, "nrt_get_model_tensor_info", () -> nrt.tensorInfo(model));
        Standin.fail("nrt_unload", 3, 0);
        nrtError(3, "nrt_unload", () -> nrt.unload(model));
    }

    @Test
    void wrongSizeAndMissingInputsAreRefused() {
        nrt.init();
        Nrt.Model model = loadPrefill();
        List<StandinNeff.Spec> specs = StandinNeff.specs(PREFILL);
        // Every tensor but input_ids is bound; input_ids is first absent, then one element short.
        Nrt.TensorSet in = nrt.newTensorSet();
        Nrt.TensorSet out = nrt.newTensorSet();
        List<Nrt.Tensor> tensors = new ArrayList<>();
        for (StandinNeff.Spec s : specs) {
            if (s.kind().equals("input_ids")) continue;
            Nrt.Tensor t = nrt.allocate(0, s.bytes(), s.name());
            tensors.add(t);
            nrt.add(s.input() ? in : out, s.name(), t);
        }
        nrtError(2, "nrt_execute", () -> nrt.execute(model, in, out));
        Nrt.Tensor shortIds = nrt.allocate(0, 2 * 4 * 4 - 4, "short");
        nrt.add(in, "input0", shortIds);
        nrtError(2, "nrt_execute", () -> nrt.execute(model, in, out));
        Nrt.Tensor otherCore = nrt.allocate(1, 2 * 4 * 4, "other core");
        nrt.add(in, "input0", otherCore);
        nrtError(2, "nrt_execute", () -> nrt.execute(model, in, out));
        Nrt.Tensor ids = nrt.allocate(0, 2 * 4 * 4, "ids");
        nrt.add(in, "input0", ids);
        nrt.execute(model, in, out); // all present, all the right size: zero ids, zero slots are valid
    }

    @Test
    void outOfRangeSlotIsOob() {
        nrt.init();
        StandinRank r = ready(loadPrefill());
        r.writeInts("seq_ids", 0, 2); // max_batch is 2
        nrtError(1006, "nrt_execute", r::execute);
        r.writeInts("seq_ids", 0, 1);
        r.writeInts("input_ids", 16, 0, 0, 0, 1, 0, 0, 0); // vocab is 16
        nrtError(1006, "nrt_execute", r::execute);
    }

    @Test
    void useAfterFreeUnloadDestroyOrCloseIsRefusedInJava() {
        nrt.init();
        Nrt.Model model = loadPrefill();
        Nrt.Tensor t = nrt.allocate(0, 16, "t");
        Nrt.TensorSet set = nrt.newTensorSet();
        nrt.free(t);
        assertThrows(IllegalStateException.class, () -> nrt.write(t, 0, ByteBuffer.allocateDirect(4)));
        assertThrows(IllegalStateException.class, () -> nrt.read(t, 0, ByteBuffer.allocateDirect(4)));
        assertThrows(IllegalStateException.class, () -> nrt.add(set, "input0", t));
        assertThrows(IllegalStateException.class, () -> nrt.free(t));
        nrt.destroy(set);
        assertThrows(IllegalStateException.class, () -> nrt.destroy(set));
        nrt.unload(model);
        assertThrows(IllegalStateException.class, () -> nrt.tensorInfo(model));
        assertThrows(IllegalStateException.class, () -> nrt.unload(model));
        Nrt.Tensor live = nrt.allocate(0, 16, "live");
        nrt.close();
        assertThrows(IllegalStateException.class, () -> nrt.read(live, 0, ByteBuffer.allocateDirect(4)));
        assertThrows(IllegalStateException.class, nrt::init);
        try (Nrt other = Nrt.open(null)) {
            assertThrows(IllegalArgumentException.class, () -> other.free(live), "handles never cross runtimes");
        }
    }

    @Test
    void callsBeforeInitAndAfterCloseSurfaceTheRuntimesStatus() {
        nrtError(13, "nrt_tensor_allocate", () -> nrt.allocate(0, 16, "early"));
        nrtError(13, "nrt_load", this::loadPrefill);
        nrt.init();
        nrt.close();
        try (Nrt after = Nrt.open(null)) {
            nrtError(14, "nrt_allocate_tensor_set", after::newTensorSet);
        }
    }

    @Test
    void initTwiceFailsAndCoresOutsideTheVisibleSetAreRefused() {
        nrt.init();
        nrtError(1, "nrt_init", nrt::init);
        nrtError(9, "nrt_load", () -> nrt.load(StandinNeff.direct(StandinNeff.neff("p", PREFILL)), 2));
        nrtError(2, "nrt_tensor_allocate", () -> nrt.allocate(5, 16, "far"));
    }

    @Test
    void damagedNeffsAreNrtExceptionsNotCrashes() {
        nrt.init();
        byte[] good = StandinNeff.neff("p", PREFILL);
        byte[] hash = good.clone();
        hash[172] ^= 1;
        nrtError(2, "nrt_load", () -> nrt.load(StandinNeff.direct(hash), 0));
        byte[] data = good.clone();
        data[data.length - 2] ^= 1;
        nrtError(2, "nrt_load", () -> nrt.load(StandinNeff.direct(data), 0));
        byte[] version = good.clone();
        version[24] = 3;
        nrtError(10, "nrt_load", () -> nrt.load(StandinNeff.direct(version), 0));
        byte[] truncated = java.util.Arrays.copyOf(good, 1000);
        nrtError(2, "nrt_load", () -> nrt.load(StandinNeff.direct(truncated), 0));
        byte[] cut = java.util.Arrays.copyOf(good, good.length - 10);
        nrtError(2, "nrt_load", () -> nrt.load(StandinNeff.direct(cut), 0));
        byte[] notAGraph = StandinNeff.neff("p", "hello\n");
        nrtError(2, "nrt_load", () -> nrt.load(StandinNeff.direct(notAGraph), 0));
        byte[] unknownLine = StandinNeff.neff("p", StandinNeff.description(PREFILL) + "sparkle 1\n");
        nrtError(2, "nrt_load", () -> nrt.load(StandinNeff.direct(unknownLine), 0));
        assertThrows(IllegalArgumentException.class, () -> nrt.load(ByteBuffer.wrap(good), 0), "heap buffers are refused");
        nrt.unload(nrt.load(StandinNeff.direct(good), 0)); // the runtime is still fine
    }

    @Test
    void anAbsentLibraryNamesWhereItLooked(@org.junit.jupiter.api.io.TempDir Path dir) {
        Path missing = dir.resolve("libnrt.so.1");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Nrt.open(missing));
        assertTrue(e.getMessage().contains(missing + " (given to Nrt.open)"), e.getMessage());
        assertTrue(e.getMessage().contains("No such file"), "the dlerror: " + e.getMessage());

        String saved = System.getProperty(Nrt.LIBRARY_PROPERTY);
        System.setProperty(Nrt.LIBRARY_PROPERTY, missing.toString());
        try {
            e = assertThrows(IllegalStateException.class, () -> Nrt.open(null));
            assertTrue(e.getMessage().contains(missing + " (system property basalt.nrt.library)"), e.getMessage());
        } finally {
            System.setProperty(Nrt.LIBRARY_PROPERTY, saved);
        }
    }

    @Test
    void aLibraryWithoutTheSymbolsIsRefused() throws Exception {
        // libm is a real shared object without any nrt_* symbol.
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Nrt.open(Path.of("libm.so.6")));
        assertTrue(e.getMessage().contains("missing symbol nrt_init"), e.getMessage());
    }

    private Nrt.Model[] loadTwoRanks() {
        StandinNeff.Graph g = StandinNeff.Graph.tiny("decode", 2, 1, 8, 2);
        byte[] neff = StandinNeff.neff("decode_b2_k8_tp2", g);
        return new Nrt.Model[] {nrt.loadCollectives(StandinNeff.direct(neff), 0, 0, 2),
            nrt.loadCollectives(StandinNeff.direct(neff), 1, 1, 2)};
    }

    private StandinRank decodeRank(Nrt.Model model, int rank) {
        StandinNeff.Graph g = StandinNeff.Graph.tiny("decode", 2, 1, 8, 2);
        StandinRank r = new StandinRank(nrt, model, StandinNeff.specs(g), rank, new HashMap<>());
        r.writeInts("input_ids", 1, 2);
        r.writeInts("position_ids", 0, 0);
        r.writeInts("seq_ids", 0, 1);
        return r;
    }

    @Test
    void collectiveRanksExecuteTogether() throws Exception {
        nrt.init();
        Nrt.Model[] m = loadTwoRanks();
        StandinRank r0 = decodeRank(m[0], 0), r1 = decodeRank(m[1], 1);
        // One platform thread per rank (a small common pool could run them one after another, which times out).
        ExecutorService threads = Executors.newFixedThreadPool(2);
        try {
            for (int step = 0; step < 3; step++) {
                Future<?> a = threads.submit(r0::execute);
                Future<?> b = threads.submit(r1::execute);
                a.get(20, TimeUnit.SECONDS);
                b.get(20, TimeUnit.SECONDS);
            }
        } finally {
            threads.shutdownNow();
        }
        String log = Standin.log();
        assertEquals(3, log.lines().filter(l -> l.endsWith("rank=0")).count(), log);
        assertEquals(3, log.lines().filter(l -> l.endsWith("rank=1")).count(), log);
        assertFalse(log.contains("prefill"), log);
    }

    @Test
    void aRankExecutedAloneTimesOut() {
        assertEquals("1500", System.getenv("BASALT_STANDIN_COLLECTIVE_TIMEOUT_MS"), "set by surefire");
        nrt.init();
        Nrt.Model[] m = loadTwoRanks();
        StandinRank r0 = decodeRank(m[0], 0), r1 = decodeRank(m[1], 1);
        long start = System.nanoTime();
        nrtError(5, "nrt_execute", r0::execute);
        nrtError(5, "nrt_execute", r1::execute); // one after another is not together
        assertTrue(System.nanoTime() - start >= 2_900_000_000L, "each waited for its peer");
    }

    @Test
    void aCoreHeldByAnotherProcessFailsInit() throws Exception {
        Path lockDir = Path.of(System.getenv("BASALT_STANDIN_LOCK_DIR"));
        Files.createDirectories(lockDir);
        File lock = lockDir.resolve("basalt-standin-core-1.lock").toFile();
        Path ready = lockDir.resolve("held");
        Files.deleteIfExists(ready);
        // flock(1) takes the same kind of lock the stand-in takes, on a descriptor that `sleep` inherits through exec,
        // so killing that one process releases it.
        Process holder = new ProcessBuilder("sh", "-c",
                "exec 9>'" + lock + "' && flock -n 9 && touch '" + ready + "' && exec sleep 30").start();
        try {
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (!Files.exists(ready) && System.nanoTime() < deadline) Thread.sleep(20);
            assertTrue(Files.exists(ready), "the other process holds core 1");
            nrtError(4, "nrt_init", nrt::init);
        } finally {
            holder.destroy();
            holder.waitFor();
        }
        nrt.init(); // released with the process
    }
}
