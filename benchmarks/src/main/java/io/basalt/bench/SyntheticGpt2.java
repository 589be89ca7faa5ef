package io.basalt.bench;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * Writes an llm.c (v3, fp32) GPT-2 checkpoint of a real model's shape with random weights, so that
 * decode speed can be measured at real sizes without downloading weights. Values are small and
 * LayerNorm weights are one, so activations stay finite; the text it produces is noise.
 */
public final class SyntheticGpt2 {
    private SyntheticGpt2() {}

    /** Shapes of the published GPT-2 sizes (MODELS.md). */
    public enum Size {
        GPT2(12, 12, 768), MEDIUM(24, 16, 1024), LARGE(36, 20, 1280), XL(48, 25, 1600);

        final int layers, heads, channels;

        Size(int layers, int heads, int channels) {
            this.layers = layers;
            this.heads = heads;
            this.channels = channels;
        }
    }

    /**
     * The checkpoint of this size in the temp directory, written once (fixed seed) and reused; written
     * to a temporary name first so a concurrent or interrupted run never sees half a file.
     */
    public static Path cached(Size size) throws IOException {
        Path path = Path.of(System.getProperty("java.io.tmpdir"),
                "basalt-synthetic-" + size.name().toLowerCase(java.util.Locale.ROOT) + ".bin");
        if (!Files.exists(path)) {
            System.err.println("writing " + path + " ...");
            Path tmp = Path.of(path + ".tmp" + ProcessHandle.current().pid());
            write(tmp, size, 1234);
            Files.move(tmp, path, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        }
        return path;
    }

    public static void write(Path file, Size size, long seed) throws IOException {
        int maxT = 1024, vocab = 50257, padded = 50304;
        int l = size.layers, c = size.channels;
        SplittableRandom random = new SplittableRandom(seed);
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), 1 << 20)) {
            ByteBuffer header = ByteBuffer.allocate(256 * 4).order(ByteOrder.LITTLE_ENDIAN);
            header.putInt(20240326).putInt(3).putInt(maxT).putInt(vocab).putInt(l).putInt(size.heads).putInt(c).putInt(padded);
            out.write(header.array());
            random(out, (long) padded * c, 0.02f, random);   // wte
            random(out, (long) maxT * c, 0.01f, random);     // wpe
            constant(out, (long) l * c, 1f);                 // ln1w
            constant(out, (long) l * c, 0f);                 // ln1b
            random(out, (long) l * 3 * c * c, 0.02f, random); // qkvw
            constant(out, (long) l * 3 * c, 0f);             // qkvb
            random(out, (long) l * c * c, 0.02f, random);     // attprojw
            constant(out, (long) l * c, 0f);                 // attprojb
            constant(out, (long) l * c, 1f);                 // ln2w
            constant(out, (long) l * c, 0f);                 // ln2b
            random(out, (long) l * 4 * c * c, 0.02f, random); // fcw
            constant(out, (long) l * 4 * c, 0f);             // fcb
            random(out, (long) l * c * 4 * c, 0.02f, random); // fcprojw
            constant(out, (long) l * c, 0f);                 // fcprojb
            constant(out, c, 1f);                            // lnfw
            constant(out, c, 0f);                            // lnfb
        }
    }

    private static void random(OutputStream out, long n, float scale, SplittableRandom random) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        for (long i = 0; i < n; i++) {
            if (!buf.hasRemaining()) flush(out, buf);
            buf.putFloat((float) (random.nextDouble(-1, 1) * scale));
        }
        flush(out, buf);
    }

    private static void constant(OutputStream out, long n, float value) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        for (long i = 0; i < n; i++) {
            if (!buf.hasRemaining()) flush(out, buf);
            buf.putFloat(value);
        }
        flush(out, buf);
    }

    private static void flush(OutputStream out, ByteBuffer buf) throws IOException {
        out.write(buf.array(), 0, buf.position());
        buf.clear();
    }
}
