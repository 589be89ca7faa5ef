package io.basalt.parity;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DumpRoundTripTest {
    @TempDir
    Path dir;

    private static float[] randomRow(Random r, int n) {
        float[] row = new float[n];
        for (int i = 0; i < n; i++) row[i] = Float.intBitsToFloat(r.nextInt()); // every bit pattern: NaNs, subnormals, -0, inf
        return row;
    }

    @Test
    void fullLogitsHiddenStatesAndMetadataComeBackBitExact() {
        Random r = new Random(7);
        int t = 5, v = 33, layers = 3, h = 7;
        float[][] logits = new float[t][];
        for (int i = 0; i < t; i++) logits[i] = randomRow(r, v);
        float[][][] hidden = new float[layers][t][];
        for (int l = 0; l < layers; l++) for (int i = 0; i < t; i++) hidden[l][i] = randomRow(r, h);
        int[] tokens = {3, 1, 4, 1, 5};
        Path file = SyntheticDumps.write(dir.resolve("a.safetensors"), "bf16", "full", tokens, 2, logits, hidden);
        try (ParityDump d = ParityDump.open(file)) {
            DumpMetadata m = d.metadata();
            assertEquals(SyntheticDumps.metadata("bf16", "full", v, hidden, List.of(new DumpMetadata.Prompt(null, 2, t))), m);
            assertEquals(Precision.BF16, m.precisionClass());
            assertArrayEquals(tokens, d.tokens(0));
            assertEquals(2, d.promptLength(0));
            for (int i = 0; i < t; i++) {
                LogitRow row = d.logits(0, i);
                assertNull(row.ids());
                assertBitsEqual(logits[i], row.values());
                for (int l = 0; l < layers; l++) assertBitsEqual(hidden[l][i], d.hidden(0, l, i));
            }
        }
        assertFalse(Files.exists(dir.resolve("a.safetensors.part")));
    }

    @Test
    void theFileIsPlainSafetensorsWithTheMetadataInTheHeader() throws IOException {
        Path file = SyntheticDumps.write(dir.resolve("s.safetensors"), "fp32", "full", new int[] {1, 2}, 2,
                SyntheticDumps.rows(new float[] {1, 2, 3}, new float[] {4, 5, 6}), null);
        byte[] bytes = Files.readAllBytes(file);
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long headerLength = b.getLong(0);
        assertEquals(0, (8 + headerLength) % 8, "data starts 8-byte aligned");
        String header = new String(bytes, 8, (int) headerLength, StandardCharsets.UTF_8);
        assertTrue(header.contains("\"format\":\"basalt-parity-dump\""), header);
        assertTrue(header.contains("\"p0.logits\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[8,32]}"), header);
        assertTrue(header.contains("\"p0.tokens\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[0,8]}"), header);
        assertEquals(8 + headerLength + 32, bytes.length);
        int data = (int) (8 + headerLength);
        assertEquals(2, b.getInt(data + 4));
        assertEquals(6f, b.getFloat(data + 8 + 20));
    }

    @Test
    void topKKeepsTheLargestIdsAndTheirValuesLargestFirst() {
        float[] row = {0.5f, 3f, -1f, 3f, 2f, 7f, 0f, 1f};
        Path file = SyntheticDumps.write(dir.resolve("k.safetensors"), "fp32", "topk:5", new int[] {0}, 1, SyntheticDumps.rows(row), null);
        try (ParityDump d = ParityDump.open(file)) {
            LogitRow r = d.logits(0, 0);
            assertArrayEquals(new int[] {5, 1, 3, 4, 7}, r.ids(), "ties keep the lower id first");
            assertArrayEquals(new float[] {7f, 3f, 3f, 2f, 1f}, r.values());
            assertEquals(5, r.argmax());
        }
    }

    @Test
    void anAbandonedWriteLeavesNoFile() {
        DumpMetadata meta = SyntheticDumps.metadata("fp32", "full", 3, null, List.of(new DumpMetadata.Prompt(null, 1, 2)));
        Path file = dir.resolve("x.safetensors");
        try (DumpWriter w = DumpWriter.create(file, meta)) {
            w.tokens(0, new int[] {1, 2});
            w.logits(0, 0, new float[] {1, 2, 3});
            assertThrows(IllegalStateException.class, w::commit, "one logits row is missing");
        }
        assertFalse(Files.exists(file));
        assertFalse(Files.exists(dir.resolve("x.safetensors.part")));
    }

    @Test
    void whatIsNotADumpIsRefusedWithAReason() throws IOException {
        ParityInputException missing = assertThrows(ParityInputException.class, () -> ParityDump.open(dir.resolve("nope.safetensors")));
        assertTrue(missing.getMessage().contains("no such file"), missing.getMessage());

        Path raw = Files.write(dir.resolve("raw.f32"), new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
        assertTrue(assertThrows(ParityInputException.class, () -> ParityDump.open(raw)).getMessage().contains("not a parity dump"));

        byte[] json = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}".getBytes(StandardCharsets.UTF_8);
        ByteBuffer st = ByteBuffer.allocate(8 + json.length + 4).order(ByteOrder.LITTLE_ENDIAN).putLong(json.length).put(json).putFloat(1f);
        Path plain = Files.write(dir.resolve("model.safetensors"), st.array());
        ParityInputException notParity = assertThrows(ParityInputException.class, () -> ParityDump.open(plain));
        assertTrue(notParity.getMessage().contains("without parity metadata"), notParity.getMessage());

        Path good = SyntheticDumps.write(dir.resolve("g.safetensors"), "fp32", "full", new int[] {1, 2}, 2,
                SyntheticDumps.rows(new float[] {1, 2, 3}, new float[] {4, 5, 6}), null);
        byte[] bytes = Files.readAllBytes(good);
        Path cut = Files.write(dir.resolve("cut.safetensors"), java.util.Arrays.copyOf(bytes, bytes.length - 4));
        assertTrue(assertThrows(ParityInputException.class, () -> ParityDump.open(cut)).getMessage().contains("truncated"));

        String text = new String(bytes, StandardCharsets.ISO_8859_1).replace("\"version\":\"1\"", "\"version\":\"9\"");
        Path future = Files.write(dir.resolve("v9.safetensors"), text.getBytes(StandardCharsets.ISO_8859_1));
        assertTrue(assertThrows(ParityInputException.class, () -> ParityDump.open(future)).getMessage().contains("version 9"));

        String moved = new String(bytes, StandardCharsets.ISO_8859_1).replace("\"data_offsets\":[8,32]", "\"data_offsets\":[0,24]");
        Path damaged = Files.write(dir.resolve("d.safetensors"), moved.getBytes(StandardCharsets.ISO_8859_1));
        assertTrue(assertThrows(ParityInputException.class, () -> ParityDump.open(damaged)).getMessage().contains("does not match"));
    }

    private static void assertBitsEqual(float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(actual[i]), "element " + i);
        }
    }
}
