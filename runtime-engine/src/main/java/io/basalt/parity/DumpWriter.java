package io.basalt.parity;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Writes a dump as it is produced: the header (from the metadata alone) first, then each step's
 * logits row and hidden states straight to their place in the file, so nothing is held beyond one
 * step. The file is written beside the target and moved there by {@link #commit()}; closing without
 * a commit deletes it, so a failed run leaves no half dump behind.
 */
public final class DumpWriter implements AutoCloseable {
    private final Path out;
    private final Path tmp;
    private final DumpMetadata metadata;
    private final DumpLayout layout;
    private final FileChannel channel;
    private final long dataStart;
    private final LogitsMode logitsMode;
    private ByteBuffer buffer = ByteBuffer.allocateDirect(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
    private long bytesWritten;
    private boolean committed;

    private DumpWriter(Path out, DumpMetadata metadata) throws IOException {
        this.out = out;
        this.metadata = metadata;
        this.layout = DumpLayout.of(metadata);
        this.logitsMode = metadata.logitsMode();
        Path dir = out.toAbsolutePath().getParent();
        if (dir != null && !Files.isDirectory(dir)) throw new ParityInputException("cannot write " + out + ": no such directory " + dir);
        this.tmp = out.resolveSibling(out.getFileName() + ".part");
        this.channel = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE, StandardOpenOption.READ);
        byte[] header = header(metadata, layout);
        ByteBuffer head = ByteBuffer.allocate(8 + header.length).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(header.length).put(header).flip();
        write(head, 0);
        this.dataStart = 8 + header.length;
    }

    public static DumpWriter create(Path out, DumpMetadata metadata) {
        try {
            return new DumpWriter(out, metadata);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + out + ": " + e.getMessage(), e);
        }
    }

    public DumpMetadata metadata() { return metadata; }

    /** The safetensors header: {@code __metadata__} then the tensors, padded with spaces to 8 bytes. */
    static byte[] header(DumpMetadata metadata, DumpLayout layout) {
        ObjectNode root = DumpMetadata.JSON.createObjectNode();
        ObjectNode meta = root.putObject("__metadata__");
        meta.put("format", DumpMetadata.FORMAT);
        meta.put("version", Integer.toString(DumpMetadata.VERSION));
        meta.put(DumpMetadata.KEY, metadata.toJson());
        for (DumpLayout.Entry e : layout.entries()) {
            ObjectNode t = root.putObject(e.name());
            t.put("dtype", e.dtype());
            var shape = t.putArray("shape");
            for (long d : e.shape()) shape.add(d);
            t.putArray("data_offsets").add(e.offset()).add(e.offset() + e.bytes());
        }
        byte[] json = root.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 8 + 7) / 8 * 8 - 8;
        byte[] out = java.util.Arrays.copyOf(json, padded);
        java.util.Arrays.fill(out, json.length, padded, (byte) ' ');
        return out;
    }

    /** The input token at each position of prompt {@code prompt}. */
    public void tokens(int prompt, int[] ids) {
        DumpLayout.Entry e = layout.find(prompt, DumpLayout.Kind.TOKENS);
        if (ids.length != e.shape()[0]) throw new IllegalArgumentException("prompt " + prompt + " has " + e.shape()[0] + " positions, got " + ids.length + " tokens");
        ByteBuffer b = buffer(4L * ids.length);
        for (int id : ids) b.putInt(id);
        write(b.flip(), dataStart + e.offset());
    }

    /** The logits at one position, a whole vocabulary row; top-k dumps keep its K largest. */
    public void logits(int prompt, int position, float[] row) {
        if (row.length != metadata.vocabSize()) {
            throw new IllegalArgumentException("a logits row has " + row.length + " entries; the dump's vocabulary is " + metadata.vocabSize());
        }
        switch (logitsMode) {
            case LogitsMode.Full f -> writeFloats(layout.find(prompt, DumpLayout.Kind.LOGITS), position, row);
            case LogitsMode.TopK k -> {
                int[] ids = TopIds.of(row, k.k());
                DumpLayout.Entry idEntry = layout.find(prompt, DumpLayout.Kind.TOPK_IDS);
                ByteBuffer b = buffer(4L * k.k());
                float[] vals = new float[k.k()];
                for (int i = 0; i < k.k(); i++) {
                    int id = i < ids.length ? ids[i] : -1;
                    b.putInt(id);
                    vals[i] = id < 0 ? Float.NaN : row[id];
                }
                write(b.flip(), dataStart + idEntry.offset() + 4L * k.k() * checkRow(idEntry, position));
                writeFloats(layout.find(prompt, DumpLayout.Kind.TOPK_LOGITS), position, vals);
            }
        }
    }

    /** One layer's hidden state at one position. */
    public void hidden(int prompt, int layer, int position, float[] state) {
        if (!metadata.hasHidden()) throw new IllegalStateException("this dump records no hidden states");
        if (state.length != metadata.hiddenSize() || layer < 0 || layer >= metadata.numLayers()) {
            throw new IllegalArgumentException("hidden state of layer " + layer + " with " + state.length + " values does not fit ["
                    + metadata.numLayers() + ", T, " + metadata.hiddenSize() + "]");
        }
        DumpLayout.Entry e = layout.find(prompt, DumpLayout.Kind.HIDDEN);
        long positions = e.shape()[1];
        checkRow(e, position);
        ByteBuffer b = buffer(4L * state.length);
        b.asFloatBuffer().put(state);
        b.limit(4 * state.length);
        write(b, dataStart + e.offset() + 4L * state.length * (layer * positions + position));
    }

    private void writeFloats(DumpLayout.Entry e, int position, float[] values) {
        long row = checkRow(e, position);
        ByteBuffer b = buffer(4L * values.length);
        b.asFloatBuffer().put(values);
        b.limit(4 * values.length);
        write(b, dataStart + e.offset() + 4L * values.length * row);
    }

    private static long checkRow(DumpLayout.Entry e, int position) {
        long positions = e.kind() == DumpLayout.Kind.HIDDEN ? e.shape()[1] : e.shape()[0];
        if (position < 0 || position >= positions) throw new IllegalArgumentException(e.name() + " has " + positions + " positions, got " + position);
        return position;
    }

    private ByteBuffer buffer(long bytes) {
        if (bytes > buffer.capacity()) buffer = ByteBuffer.allocateDirect((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
        buffer.clear();
        return buffer;
    }

    private void write(ByteBuffer b, long position) {
        try {
            bytesWritten += b.remaining();
            while (b.hasRemaining()) position += channel.write(b, position);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + out + ": " + e.getMessage(), e);
        }
    }

    /**
     * Checks that every byte of every tensor was written, then moves the file into place.
     * (Counts bytes, so a position written twice and another never would pass; the recorder writes
     * each exactly once.)
     */
    public void commit() {
        long expected = dataStart + layout.dataBytes();
        if (bytesWritten != expected) {
            throw new IllegalStateException("dump incomplete: wrote " + bytesWritten + " of " + expected + " bytes");
        }
        try {
            channel.force(false);
            channel.close();
            Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            committed = true;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + out + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        if (committed) return;
        try {
            channel.close();
            Files.deleteIfExists(tmp);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
