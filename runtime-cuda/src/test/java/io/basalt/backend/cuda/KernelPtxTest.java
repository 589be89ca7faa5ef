package io.basalt.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The built kernels against kernels/cuda/kernels.abi (docs/CUDA.md §2): every {@code .entry} of the PTX that nvcc
 * wrote to target/kernels-ptx has the ABI's name and parameter list (count, order, kind and size: ptr and i64 are
 * 8-byte integers, i32 a 4-byte integer, f32 a 4-byte float), no kernel is missing and none is extra; the fatbin
 * resource is a fatbin and holds every kernel; ptxas reported no spills for the hot kernels. Skipped where the build
 * had no nvcc (no fatbin in the jar).
 */
class KernelPtxTest {
    static final String FATBIN = "/kernels/cuda/basalt.fatbin";
    static final int FATBIN_MAGIC = 0xBA55ED50;
    static final List<String> HOT = List.of("basalt_matmul", "basalt_attention", "basalt_attention_split",
            "basalt_attention_reduce", "basalt_mxfp4_matmul", "basalt_rmsnorm");

    static Path module;
    static Map<String, List<String>> abi;

    @BeforeAll
    static void load() throws IOException {
        Assumptions.assumeTrue(KernelPtxTest.class.getResource(FATBIN) != null,
                "no " + FATBIN + ": nvcc was not found when runtime-cuda was built");
        module = Path.of(System.getProperty("user.dir"));
        abi = readAbi(module.resolve("../kernels/cuda/kernels.abi").normalize());
    }

    /** Kernel name → parameter types (ptr, i32, i64, f32; "/opt" dropped), in ABI order. */
    static Map<String, List<String>> readAbi(Path file) throws IOException {
        Map<String, List<String>> kernels = new LinkedHashMap<>();
        Pattern line = Pattern.compile("^(\\w+)\\(([^)]*)\\)\\s+grid\\(.*\\)\\s+block\\(.*\\)\\s*$");
        for (String raw : Files.readAllLines(file)) {
            String s = raw.strip();
            if (s.isEmpty() || s.startsWith("#")) continue;
            Matcher m = line.matcher(s);
            assertTrue(m.matches(), "kernels.abi: unreadable line: " + s);
            List<String> types = new ArrayList<>();
            for (String p : m.group(2).split(",")) {
                String[] nt = p.strip().split(":");
                assertEquals(2, nt.length, "kernels.abi: parameter without a type in " + m.group(1) + ": " + p);
                String type = nt[1].replace("/opt", "");
                assertTrue(List.of("ptr", "i32", "i64", "f32").contains(type), "kernels.abi: unknown type " + nt[1]);
                types.add(type);
            }
            assertTrue(kernels.put(m.group(1), types) == null, "kernels.abi: " + m.group(1) + " twice");
        }
        assertTrue(kernels.size() > 0, "kernels.abi lists no kernel");
        return kernels;
    }

    /** Every .entry of target/kernels-ptx/*.ptx → its .param type suffixes (u64, u32, f32, ...), in order. */
    static Map<String, List<String>> readPtx(Path dir) throws IOException {
        Map<String, List<String>> entries = new LinkedHashMap<>();
        Pattern entry = Pattern.compile("\\.entry\\s+(\\w+)\\s*\\(([^)]*)\\)", Pattern.DOTALL);
        Pattern param = Pattern.compile("\\.param\\s+\\.([a-z]+\\d+)\\b");
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> p.toString().endsWith(".ptx")).sorted().toList();
        }
        assertTrue(!files.isEmpty(), "no PTX in " + dir);
        for (Path f : files) {
            Matcher m = entry.matcher(Files.readString(f));
            while (m.find()) {
                List<String> types = new ArrayList<>();
                Matcher p = param.matcher(m.group(2));
                while (p.find()) types.add(p.group(1));
                assertTrue(entries.put(m.group(1), types) == null, m.group(1) + " is defined twice in the PTX");
            }
        }
        return entries;
    }

    /** Whether a PTX parameter type is the ABI type: same kind (integer or float) and same size. */
    static boolean matches(String abiType, String ptxType) {
        char kind = ptxType.charAt(0);
        int bits = Integer.parseInt(ptxType.substring(1));
        boolean integer = kind == 'u' || kind == 's' || kind == 'b';
        return switch (abiType) {
            case "ptr", "i64" -> integer && bits == 64;
            case "i32" -> integer && bits == 32;
            case "f32" -> kind == 'f' && bits == 32;
            default -> false;
        };
    }

    @Test
    void ptxEntriesAreTheAbi() throws IOException {
        Map<String, List<String>> ptx = readPtx(module.resolve("target/kernels-ptx"));
        TreeSet<String> missing = new TreeSet<>(abi.keySet());
        missing.removeAll(ptx.keySet());
        TreeSet<String> extra = new TreeSet<>(ptx.keySet());
        extra.removeAll(abi.keySet());
        assertTrue(missing.isEmpty(), "ABI kernels without a PTX entry: " + missing);
        assertTrue(extra.isEmpty(), "PTX entries not in kernels.abi: " + extra);
        for (var k : abi.entrySet()) {
            List<String> want = k.getValue(), got = ptx.get(k.getKey());
            assertEquals(want.size(), got.size(), k.getKey() + ": parameter count, ABI " + want + " vs PTX " + got);
            for (int i = 0; i < want.size(); i++) {
                if (!matches(want.get(i), got.get(i))) {
                    fail(k.getKey() + ": parameter " + i + " is " + want.get(i) + " in the ABI but ." + got.get(i)
                            + " in the PTX");
                }
            }
        }
    }

    @Test
    void fatbinHoldsEveryKernel() throws IOException {
        byte[] bytes;
        try (InputStream in = KernelPtxTest.class.getResourceAsStream(FATBIN)) {
            assertNotNull(in);
            bytes = in.readAllBytes();
        }
        assertTrue(bytes.length >= 16, "fatbin of " + bytes.length + " bytes");
        int magic = ByteBuffer.wrap(bytes, 0, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
        assertEquals(FATBIN_MAGIC, magic, "fatbin magic 0x" + Integer.toHexString(magic));
        String text = new String(bytes, StandardCharsets.ISO_8859_1);
        for (String name : abi.keySet()) assertTrue(text.contains(name), "fatbin lacks " + name);
    }

    @Test
    void hotKernelsDoNotSpill() throws IOException {
        Map<String, long[]> table = new LinkedHashMap<>();   // kernel → registers, stack, spill stores, spill loads
        for (String line : Files.readAllLines(module.resolve("target/kernels-ptx/ptxas.txt"))) {
            String s = line.strip();
            if (s.isEmpty() || s.startsWith("#")) continue;
            String[] f = s.split("\\s+");
            assertEquals(5, f.length, "ptxas.txt: " + line);
            table.put(f[0], new long[] {Long.parseLong(f[1]), Long.parseLong(f[2]), Long.parseLong(f[3]),
                    Long.parseLong(f[4])});
        }
        assertEquals(new TreeSet<>(abi.keySet()), new TreeSet<>(table.keySet()), "ptxas.txt lists the ABI's kernels");
        for (String k : HOT) {
            assertTrue(abi.containsKey(k), "hot kernel " + k + " is not in kernels.abi");
            long[] r = table.get(k);
            assertEquals(0, r[2] + r[3], k + " spills on sm_90: " + r[2] + " bytes stored, " + r[3] + " loaded");
            assertTrue(r[0] > 0 && r[0] <= 255, k + " uses " + r[0] + " registers");
        }
    }
}
