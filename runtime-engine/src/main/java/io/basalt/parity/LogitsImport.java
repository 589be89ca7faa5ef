package io.basalt.parity;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * {@code parity import-logits}: wraps a peer implementation's raw little-endian float32 logits
 * [P, V] (and optionally its residual stream after each block [L, P, H]) as a dump whose every
 * position is prompt, so a backend's run can be compared with it.
 */
public final class LogitsImport {
    private LogitsImport() {}

    /** @param hidden null for logits only; then {@code layers} and {@code hiddenSize} are ignored */
    public record Request(Path logits, int positions, int vocab, int[] tokens, Path hidden, int layers, int hiddenSize,
                         String dtype, String source, Path out) { }

    public static DumpMetadata run(Request r) {
        if (r.positions() <= 0 || r.vocab() <= 0) throw new ParityInputException("--shape must be two positive numbers P,V");
        if (r.tokens().length != r.positions()) {
            throw new ParityInputException("--tokens has " + r.tokens().length + " ids but --shape says " + r.positions() + " positions");
        }
        checkSize(r.logits(), "--logits", (long) r.positions() * r.vocab());
        for (int t : r.tokens()) if (t < 0 || t >= r.vocab()) throw new ParityInputException("--tokens: id " + t + " is outside the vocabulary (" + r.vocab() + ")");
        boolean hidden = r.hidden() != null;
        if (hidden) {
            if (r.layers() <= 0 || r.hiddenSize() <= 0) throw new ParityInputException("--hidden-shape must be three positive numbers L,P,H");
            checkSize(r.hidden(), "--hidden", (long) r.layers() * r.positions() * r.hiddenSize());
        }
        Precision precision = Precision.parse(r.dtype());
        DumpMetadata meta = new DumpMetadata(DumpMetadata.VERSION, "import", "", "", "", "import", precision.label(), "none", precision.label(),
                "full", r.vocab(), hidden ? r.layers() : 0, hidden ? r.hiddenSize() : 0, Map.of(), MachineInfo.versions(null),
                Instant.now().toString(), r.source(), List.of(new DumpMetadata.Prompt(null, r.positions(), r.positions())));
        try (DumpWriter w = DumpWriter.create(r.out(), meta);
             FileChannel logits = FileChannel.open(r.logits(), StandardOpenOption.READ);
             FileChannel states = hidden ? FileChannel.open(r.hidden(), StandardOpenOption.READ) : null) {
            w.tokens(0, r.tokens());
            for (int pos = 0; pos < r.positions(); pos++) w.logits(0, pos, readRow(logits, (long) pos * r.vocab(), r.vocab()));
            if (hidden) {
                for (int l = 0; l < r.layers(); l++) {
                    for (int pos = 0; pos < r.positions(); pos++) {
                        w.hidden(0, l, pos, readRow(states, ((long) l * r.positions() + pos) * r.hiddenSize(), r.hiddenSize()));
                    }
                }
            }
            w.commit();
        } catch (IOException e) {
            throw new ParityInputException("cannot read the peer files: " + e.getMessage(), e);
        }
        return meta;
    }

    private static void checkSize(Path file, String option, long floats) {
        if (!Files.isRegularFile(file)) throw new ParityInputException(option + " " + file + ": no such file");
        try {
            long size = Files.size(file);
            if (size != floats * 4) {
                throw new ParityInputException(option + " " + file + " has " + size + " bytes; the shape needs " + floats + " float32 values ("
                        + floats * 4 + " bytes)");
            }
        } catch (IOException e) {
            throw new ParityInputException(option + " " + file + ": cannot read: " + e.getMessage(), e);
        }
    }

    private static float[] readRow(FileChannel ch, long firstFloat, int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
        long at = firstFloat * 4;
        while (b.hasRemaining()) {
            int got = ch.read(b, at + b.position());
            if (got < 0) throw new IOException("unexpected end of file");
        }
        float[] out = new float[n];
        b.flip().asFloatBuffer().get(out);
        return out;
    }
}
