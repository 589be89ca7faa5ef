package io.basalt.parity;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Map;

/**
 * A dump opened for reading: the file is memory-mapped and rows are copied out one at a time, so
 * multi-gigabyte dumps compare without being read into the heap. Opening checks that the file is a
 * safetensors file carrying parity metadata and that its tensors are exactly the ones the metadata
 * implies ({@link DumpLayout}), so every later read is in bounds.
 */
public final class ParityDump implements AutoCloseable {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final long MAX_HEADER = 1L << 27;

    private final Path path;
    private final DumpMetadata metadata;
    private final DumpLayout layout;
    private final Arena arena;
    private final MemorySegment data;

    private ParityDump(Path path, DumpMetadata metadata, DumpLayout layout, Arena arena, MemorySegment data) {
        this.path = path;
        this.metadata = metadata;
        this.layout = layout;
        this.arena = arena;
        this.data = data;
    }

    /** Opens a dump; anything that is not a readable, consistent parity dump is a {@link ParityInputException}. */
    public static ParityDump open(Path path) {
        if (!Files.exists(path)) throw new ParityInputException(path + ": no such file");
        if (!Files.isRegularFile(path)) throw new ParityInputException(path + ": not a file");
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            while (len.hasRemaining() && ch.read(len) > 0) { /* fill */ }
            if (len.hasRemaining()) throw notADump(path, "shorter than a safetensors header");
            long headerLength = len.getLong(0);
            if (headerLength <= 0 || headerLength > MAX_HEADER || 8 + headerLength > size) {
                throw notADump(path, "no safetensors header");
            }
            ByteBuffer header = ByteBuffer.allocate((int) headerLength);
            while (header.hasRemaining() && ch.read(header, 8 + header.position()) > 0) { /* fill */ }
            JsonNode root = parseJson(path, new String(header.array(), StandardCharsets.UTF_8));
            DumpMetadata metadata = parseMetadata(path, root);
            DumpLayout layout = DumpLayout.of(metadata);
            checkTensors(path, root, layout);
            long dataStart = 8 + headerLength;
            if (size - dataStart < layout.dataBytes()) {
                throw new ParityInputException(path + ": truncated parity dump (" + (size - dataStart) + " data bytes, the header describes "
                        + layout.dataBytes() + ")");
            }
            MemorySegment data = ch.map(FileChannel.MapMode.READ_ONLY, dataStart, layout.dataBytes(), arena);
            return new ParityDump(path, metadata, layout, arena, data);
        } catch (IOException e) {
            arena.close();
            throw new ParityInputException(path + ": cannot read: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static ParityInputException notADump(Path path, String why) {
        return new ParityInputException(path + ": not a parity dump (" + why + "; make one with basalt parity run or parity import-logits)");
    }

    private static JsonNode parseJson(Path path, String header) {
        try {
            JsonNode root = DumpMetadata.JSON.readTree(header);
            if (root == null || !root.isObject()) throw notADump(path, "the safetensors header is not a JSON object");
            return root;
        } catch (JsonProcessingException e) {
            throw notADump(path, "the safetensors header is not JSON");
        }
    }

    private static DumpMetadata parseMetadata(Path path, JsonNode root) {
        JsonNode meta = root.get("__metadata__");
        if (meta == null || !DumpMetadata.FORMAT.equals(meta.path("format").asText())) {
            throw notADump(path, "a safetensors file without parity metadata");
        }
        String version = meta.path("version").asText();
        if (!version.equals(Integer.toString(DumpMetadata.VERSION))) {
            throw new ParityInputException(path + ": parity dump version " + version + " is not supported (this build reads version "
                    + DumpMetadata.VERSION + ")");
        }
        try {
            return DumpMetadata.fromJson(meta.path(DumpMetadata.KEY).asText());
        } catch (JsonProcessingException | IllegalArgumentException e) {
            throw new ParityInputException(path + ": damaged parity metadata: " + e.getMessage(), e);
        }
    }

    private static void checkTensors(Path path, JsonNode root, DumpLayout layout) {
        int seen = 0;
        for (Iterator<Map.Entry<String, JsonNode>> it = root.properties().iterator(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> t = it.next();
            if (t.getKey().equals("__metadata__")) continue;
            DumpLayout.Entry e = layout.byName().get(t.getKey());
            long[] shape = new long[t.getValue().path("shape").size()];
            for (int i = 0; i < shape.length; i++) shape[i] = t.getValue().path("shape").get(i).asLong();
            JsonNode offsets = t.getValue().path("data_offsets");
            if (e == null || !e.dtype().equals(t.getValue().path("dtype").asText()) || !Arrays.equals(e.shape(), shape)
                    || offsets.size() != 2 || offsets.get(0).asLong() != e.offset() || offsets.get(1).asLong() != e.offset() + e.bytes()) {
                throw new ParityInputException(path + ": damaged parity dump: tensor '" + t.getKey() + "' does not match the metadata");
            }
            seen++;
        }
        if (seen != layout.entries().size()) {
            throw new ParityInputException(path + ": damaged parity dump: " + seen + " tensors, the metadata describes " + layout.entries().size());
        }
    }

    public Path path() { return path; }

    public DumpMetadata metadata() { return metadata; }

    public int numPrompts() { return metadata.prompts().size(); }

    public int positions(int prompt) { return metadata.prompts().get(prompt).positions(); }

    public int promptLength(int prompt) { return metadata.prompts().get(prompt).promptLength(); }

    /** The input token at each position. */
    public int[] tokens(int prompt) {
        DumpLayout.Entry e = layout.find(prompt, DumpLayout.Kind.TOKENS);
        int[] out = new int[(int) e.shape()[0]];
        MemorySegment.copy(data, I32, e.offset(), out, 0, out.length);
        return out;
    }

    /** The logits at one position: a full row, or the stored top-k (ids, values; largest first). */
    public LogitRow logits(int prompt, int position) {
        return switch (metadata.logitsMode()) {
            case LogitsMode.Full f -> new LogitRow(null, floats(layout.find(prompt, DumpLayout.Kind.LOGITS), position, metadata.vocabSize()));
            case LogitsMode.TopK k -> {
                DumpLayout.Entry ids = layout.find(prompt, DumpLayout.Kind.TOPK_IDS);
                int[] id = new int[k.k()];
                MemorySegment.copy(data, I32, ids.offset() + 4L * k.k() * position, id, 0, k.k());
                float[] v = floats(layout.find(prompt, DumpLayout.Kind.TOPK_LOGITS), position, k.k());
                int n = 0;
                while (n < id.length && id[n] >= 0) n++; // -1 pads a row that had fewer than K ranked values
                yield new LogitRow(Arrays.copyOf(id, n), Arrays.copyOf(v, n));
            }
        };
    }

    /** One layer's hidden state at one position. */
    public float[] hidden(int prompt, int layer, int position) {
        if (!metadata.hasHidden()) throw new IllegalStateException(path + " has no hidden states");
        DumpLayout.Entry e = layout.find(prompt, DumpLayout.Kind.HIDDEN);
        return floats(e, (long) layer * e.shape()[1] + position, metadata.hiddenSize());
    }

    private float[] floats(DumpLayout.Entry e, long row, int width) {
        float[] out = new float[width];
        MemorySegment.copy(data, F32, e.offset() + 4L * width * row, out, 0, width);
        return out;
    }

    @Override
    public void close() { arena.close(); }
}
