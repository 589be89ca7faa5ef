package io.basalt.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.basalt.model.gguf.GgmlType;
import io.basalt.testing.Shared;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Broken and hostile files: each must fail with a {@link ModelFormatException} whose message names
 * the file and the problem, quickly, without a huge allocation.
 */
@Timeout(10)
class HostileFilesTest {
    @TempDir Path dir;

    /** Opens {@code path}, expecting a failure naming {@code fileName} and containing {@code phrase}. */
    static ModelFormatException fails(Path path, String fileName, String phrase) {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> ModelFormats.open(path).close());
        assertTrue(e.getMessage().contains(fileName), () -> "message should name " + fileName + ": " + e.getMessage());
        assertTrue(e.getMessage().contains(phrase), () -> "message should say '" + phrase + "': " + e.getMessage());
        return e;
    }

    static ModelFormatException fails(Path path, String phrase) {
        return fails(path, path.getFileName().toString(), phrase);
    }

    // ---- any format ------------------------------------------------------------------------------

    @Test
    void missingPath() {
        fails(dir.resolve("no-such-model"), "does not exist");
    }

    @Test
    void emptyFile() throws Exception {
        fails(Files.createFile(dir.resolve("empty.bin")), "empty");
    }

    @Test
    void unrecognizedFile() throws Exception {
        fails(Files.writeString(dir.resolve("notes.txt"), "hello, world"), "unrecognized");
    }

    // ---- safetensors -----------------------------------------------------------------------------

    private Path gpt2Copy() throws Exception {
        Path d = Files.createDirectory(dir.resolve("gpt2"));
        Path src = Shared.model("gpt2-tiny-random/hf");
        Files.copy(src.resolve("config.json"), d.resolve("config.json"));
        Files.copy(src.resolve("model.safetensors"), d.resolve("model.safetensors"));
        return d;
    }

    @Test
    void truncatedSafetensors() throws Exception {
        Path d = gpt2Copy();
        Path f = d.resolve("model.safetensors");
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            raf.setLength(raf.length() / 2);
        }
        fails(d, "model.safetensors", "past the end of the data area");
    }

    @Test
    void headerLengthPastEndOfFile() {
        Path f = dir.resolve("bad.safetensors");
        SafetensorsTestWriter.writeRaw(f, "{}", new byte[16]);
        patchLong(f, 0, 1L << 40);
        fails(f, "header length 1099511627776 runs past the end");
        patchLong(f, 0, -1L); // 2^64 - 1 as unsigned
        fails(f, "header length 18446744073709551615 runs past the end");
    }

    @Test
    void headerLongerThanTheLimit() throws Exception {
        Path f = dir.resolve("huge.safetensors");
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            raf.setLength(101L * 1024 * 1024); // sparse on most file systems
        }
        patchLong(f, 0, 100L * 1024 * 1024 + 1);
        fails(f, "exceeds the");
    }

    @Test
    void headerNotJson() {
        Path f = dir.resolve("garbage.safetensors");
        SafetensorsTestWriter.writeRaw(f, "{\"x\": {\"dtype\": \"F32\", oops", new byte[4]);
        fails(f, "not valid JSON");
        SafetensorsTestWriter.writeRaw(f, "[1, 2, 3]", new byte[4]);
        fails(f, "not a JSON object");
    }

    @Test
    void unknownDtype() {
        Path f = dir.resolve("fp8.safetensors");
        SafetensorsTestWriter.write(f, List.of(new SafetensorsTestWriter.T("w", "F8_E4M3", new long[]{4}, new byte[4])), null);
        ModelFormatException e = fails(f, "has dtype 'F8_E4M3', which Basalt does not read");
        assertTrue(e.getMessage().contains("'w'"));
    }

    @Test
    void offsetsDisagreeWithShape() {
        Path f = dir.resolve("shape.safetensors");
        SafetensorsTestWriter.writeRaw(f,
                "{\"w\": {\"dtype\": \"F32\", \"shape\": [2, 3], \"data_offsets\": [0, 20]}}", new byte[24]);
        fails(f, "span 20 bytes but its shape [2, 3] of F32 needs 24 bytes");
        SafetensorsTestWriter.writeRaw(f,
                "{\"w\": {\"dtype\": \"F32\", \"shape\": [-2, 3], \"data_offsets\": [0, 24]}}", new byte[24]);
        fails(f, "bad shape value -2");
        SafetensorsTestWriter.writeRaw(f,
                "{\"w\": {\"dtype\": \"U8\", \"shape\": [4294967296, 4294967296], \"data_offsets\": [0, 24]}}", new byte[24]);
        fails(f, "too large");
    }

    @Test
    void missingConfigJson() throws Exception {
        Path d = gpt2Copy();
        Files.delete(d.resolve("config.json"));
        fails(d, "gpt2", "no config.json");
    }

    @Test
    void malformedConfigJson() throws Exception {
        Path d = gpt2Copy();
        Files.writeString(d.resolve("config.json"), "{\"n_embd\": 64,");
        fails(d, "config.json", "config.json is not valid JSON");
    }

    @Test
    void directoryWithoutWeights() throws Exception {
        Path d = gpt2Copy();
        Files.delete(d.resolve("model.safetensors"));
        fails(d, "gpt2", "neither model.safetensors nor model.safetensors.index.json");
    }

    @Test
    void missingShardAndTensorNotInShard() throws Exception {
        Path d = gpt2Copy();
        Files.move(d.resolve("model.safetensors"), d.resolve("model-00001-of-00002.safetensors"));
        Path index = d.resolve("model.safetensors.index.json");
        new ObjectMapper().writeValue(index.toFile(), Map.of("weight_map", Map.of(
                "wte.weight", "model-00001-of-00002.safetensors",
                "lm_head.weight", "model-00002-of-00002.safetensors")));
        fails(d, "model-00002-of-00002.safetensors", "is missing");

        new ObjectMapper().writeValue(index.toFile(), Map.of("weight_map", Map.of(
                "wte.weight", "model-00001-of-00002.safetensors",
                "lm_head.weight", "model-00001-of-00002.safetensors")));
        fails(d, "model-00001-of-00002.safetensors", "tensor 'lm_head.weight' is listed in model.safetensors.index.json");

        new ObjectMapper().writeValue(index.toFile(), Map.of("weight_map", Map.of("wte.weight", "../escape.safetensors")));
        fails(d, "model.safetensors.index.json", "is not a file in the model directory");
    }

    // ---- llama2.c --------------------------------------------------------------------------------

    private Path llama2c(String name, int... header) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(4 * header.length + 64).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : header) b.putInt(v);
        return Files.write(dir.resolve(name), b.array());
    }

    @Test
    void llama2cAbsurdSizes() throws Exception {
        fails(llama2c("absurd.bin", 1 << 30, 172, 5, 8, 4, 512, 512), "dim=1073741824 is absurdly large");
        fails(llama2c("huge.bin", 1 << 24, 1 << 24, 4096, 1, 1, 1 << 24, 1 << 24), "which needs more bytes than a file can hold");
        fails(llama2c("zero.bin", 64, 0, 5, 8, 4, 512, 512), "hidden_dim must be positive");
        fails(llama2c("negative.bin", 64, 172, -5, 8, 4, 512, 512), "n_layers must be positive");
        fails(llama2c("heads.bin", 64, 172, 5, 7, 7, 512, 512), "dim is not a multiple of n_heads");
        fails(llama2c("kv.bin", 64, 172, 5, 8, 3, 512, 512), "n_heads is not a multiple of n_kv_heads");
        fails(llama2c("minvocab.bin", 64, 172, 5, 8, 4, Integer.MIN_VALUE, 512), "vocab_size=-2147483648");
        fails(llama2c("v1.bin", 0x616b3432, 1, 64, 172, 5, 8, 4, 512, 512), "is not supported");
    }

    @Test
    void truncatedLlama2c() throws Exception {
        Path f = dir.resolve("stories-cut.bin");
        byte[] all = Files.readAllBytes(Shared.model("stories260K/stories260K.bin"));
        Files.write(f, Arrays.copyOf(all, all.length - 1));
        fails(f, "llama2.c header says dim=64, hidden_dim=172, n_layers=5, n_heads=8, n_kv_heads=4, vocab_size=512,"
                + " seq_len=512, which needs 1056540 bytes but the file has 1056539");
        Files.write(f, Arrays.copyOf(all, 20));
        fails(f, "too short");
    }

    // ---- llm.c -----------------------------------------------------------------------------------

    private Path llmc(String name, int... header) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(1024 + 64).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : header) b.putInt(v);
        return Files.write(dir.resolve(name), b.array());
    }

    @Test
    void llmcWrongVersion() throws Exception {
        fails(llmc("v5.bin", 20240326, 5, 64, 1000, 2, 4, 64, 1024), "version 5 (bf16) is not supported yet");
        fails(llmc("v1.bin", 20240326, 1, 64, 1000, 2, 4, 64, 1024), "version 1 is not supported");
    }

    @Test
    void llmcBadHeader() throws Exception {
        fails(llmc("short.bin", 20240326, 3, 64, 1000, 2, 4, 64, 1024), "which needs 679936 bytes but the file has 1088");
        fails(llmc("pad.bin", 20240326, 3, 64, 1000, 2, 4, 64, 512), "padded_vocab_size is smaller than vocab_size");
        fails(llmc("zero.bin", 20240326, 3, 64, 1000, 0, 4, 64, 1024), "num_layers must be between 1 and");
        fails(llmc("big.bin", 20240326, 3, 1 << 24, 1 << 24, 4096, 1, 1 << 24, 1 << 24), "which needs more bytes");
        Path f = dir.resolve("cut.bin");
        Files.write(f, Arrays.copyOf(Files.readAllBytes(Shared.model("gpt2-tiny-random/llmc/gpt2_tiny_random.bin")), 100));
        fails(f, "too short");
    }

    // ---- GGUF ------------------------------------------------------------------------------------

    @Test
    void ggufBogusTensorCount() {
        Path f = new GgufTestWriter().header(3, 1L << 60, 0).bytes(new byte[64]).write(dir.resolve("tensors.gguf"));
        fails(f, "tensor count 1152921504606846976 at offset 8 is impossible");
        new GgufTestWriter().header(3, -1L, 0).write(f);
        fails(f, "tensor count 18446744073709551615");
    }

    @Test
    void ggufBogusKvCount() {
        Path f = new GgufTestWriter().header(3, 0, 1L << 60).bytes(new byte[64]).write(dir.resolve("kv.gguf"));
        fails(f, "key-value count 1152921504606846976 at offset 16 is impossible");
        // A plausible count but fewer pairs than promised: runs into the end of the file.
        new GgufTestWriter().header(3, 0, 2).kvU32("a", 1).bytes(new byte[12]).write(f);
        fails(f, "value of '' at offset 53 runs past the end of the file");
    }

    @Test
    void ggufStringLengthPastEof() {
        Path f = new GgufTestWriter().header(3, 0, 1).u64(1L << 40).bytes(new byte[16])
                .write(dir.resolve("string.gguf"));
        fails(f, "key of key-value pair 0 at offset 24 has length 1099511627776, which runs past the end");
        new GgufTestWriter().header(3, 0, 1).string("k").u32(GgufTestWriter.T_STRING).u64(-5).write(f);
        fails(f, "value of 'k' at offset 37 has length 18446744073709551611");
    }

    @Test
    void ggufBogusArrayLengthAndNesting() {
        Path f = new GgufTestWriter().header(3, 0, 1).string("arr").u32(GgufTestWriter.T_ARRAY)
                .u32(GgufTestWriter.T_U32).u64(1L << 40).bytes(new byte[16]).write(dir.resolve("array.gguf"));
        fails(f, "array length of 'arr' 1099511627776");
        GgufTestWriter w = new GgufTestWriter().header(3, 0, 1).string("deep").u32(GgufTestWriter.T_ARRAY);
        for (int i = 0; i < 1000; i++) w.u32(GgufTestWriter.T_ARRAY).u64(1);
        w.u32(GgufTestWriter.T_U32).u64(0).write(f);
        fails(f, "nests arrays more than");
    }

    @Test
    void ggufUnsupportedType() {
        Path f = new GgufTestWriter().header(3, 1, 0)
                .tensors(List.of(new GgufTestWriter.T("blk.0.attn_q.weight", GgmlType.Q4_1.id(), new long[]{32, 2}, new byte[40])), 32)
                .write(dir.resolve("q41.gguf"));
        fails(f, "tensor 'blk.0.attn_q.weight' has GGML type Q4_1 (3), which Basalt does not read");
        new GgufTestWriter().header(3, 1, 0)
                .tensors(List.of(new GgufTestWriter.T("w", GgmlType.Q6_K.id(), new long[]{256}, new byte[210])), 32).write(f);
        fails(f, "GGML type Q6_K (14)");
        new GgufTestWriter().header(3, 1, 0)
                .tensors(List.of(new GgufTestWriter.T("w", 99, new long[]{4}, new byte[4])), 32).write(f);
        fails(f, "unknown GGML type 99");
    }

    @Test
    void ggufOtherCorruption() {
        Path f = dir.resolve("other.gguf");
        new GgufTestWriter().header(3, 1, 0)
                .tensors(List.of(new GgufTestWriter.T("w", GgmlType.F32.id(), new long[]{1 << 20}, new byte[16])), 32).write(f);
        fails(f, "tensor 'w' (4194304 bytes at data offset 0) runs past the end of the file");
        new GgufTestWriter().header(3, 1, 0)
                .tensors(List.of(new GgufTestWriter.T("w", GgmlType.Q8_0.id(), new long[]{33}, new byte[64])), 32).write(f);
        fails(f, "not a multiple of the block size 32");
        new GgufTestWriter().header(3, 1, 0)
                .tensors(List.of(new GgufTestWriter.T("w", GgmlType.F32.id(), new long[]{1, 1, 1, 1, 1}, new byte[4])), 32).write(f);
        fails(f, "has 5 dimensions");
        new GgufTestWriter().header(3, 0, 1).kvU32("general.alignment", 48).write(f);
        fails(f, "general.alignment is 48; it must be a power of two");
        new GgufTestWriter().header(1, 0, 0).write(f);
        fails(f, "GGUF version 1 is not supported");
        new GgufTestWriter().header(3, 0, 2).kvU32("a", 1).kvU32("a", 2).write(f);
        fails(f, "key 'a' at offset 41 appears twice");
        new GgufTestWriter().header(3, 0, 1).string("k").u32(77).u32(0).write(f);
        fails(f, "unknown GGUF value type 77");
    }

    @Test
    void ggufTruncatedRealFile() throws Exception {
        Path f = dir.resolve("llama-cut.gguf");
        byte[] all = Files.readAllBytes(GgufReaderTest.LLAMA);
        Files.write(f, Arrays.copyOf(all, all.length - 100));
        fails(f, "tensor 'output.weight' (512000 bytes at data offset 514144) runs past the end");
        Files.write(f, Arrays.copyOf(all, 300_000)); // cut inside the token list
        fails(f, "runs past the end of the file");
    }

    private static void patchLong(Path f, long at, long v) {
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            raf.seek(at);
            raf.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
