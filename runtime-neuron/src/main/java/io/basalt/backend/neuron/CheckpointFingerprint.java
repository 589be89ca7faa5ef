package io.basalt.backend.neuron;

import io.basalt.model.layout.LlamaConfig;
import io.basalt.model.layout.LlamaLayout;
import io.basalt.model.layout.Rope;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * What a package records about its checkpoint: the files (name, size, SHA-256) and the configuration as
 * {@link LlamaLayout} reads it. The compiler writes these and {@link CompiledPackage} compares against them.
 */
final class CheckpointFingerprint {
    private CheckpointFingerprint() {}

    /** The checkpoint's files: the model file itself, or a Hugging Face directory's config.json and *.safetensors. */
    static List<Path> paths(Path model) {
        if (!Files.isDirectory(model)) return List.of(model);
        try (Stream<Path> s = Files.list(model)) {
            return s.filter(p -> {
                String n = p.getFileName().toString();
                return Files.isRegularFile(p) && (n.equals("config.json") || n.endsWith(".safetensors"));
            }).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + model, e);
        }
    }

    static List<Manifest.FileEntry> files(Path model) {
        return paths(model).stream().map(p -> new Manifest.FileEntry(p.getFileName().toString(), size(p), sha256(p))).toList();
    }

    static long size(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + p, e);
        }
    }

    static String sha256(Path p) {
        MessageDigest md = digest();
        byte[] buf = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(p)) {
            for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + p, e);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    static byte[] sha256(byte[] data) { return digest().digest(data); }

    private static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The layout's configuration as a manifest records it. RoPE must be the standard one (no Llama 3 scaling, no GGUF
     * frequency factors): the compile contract's graphs compute only that.
     */
    static Manifest.Config config(Path model, LlamaLayout layout) {
        LlamaConfig c = layout.config();
        Rope rope = layout.rope();
        if (!Arrays.equals(rope.invFreq(), Rope.standard(rope.style(), c.rotaryDims(), c.ropeTheta()).invFreq()) || rope.concentration() != 1f) {
            throw new PackageException(model + ": RoPE frequency scaling (Llama 3 rope_scaling or rope_freqs) is not supported by the neuron compile contract yet");
        }
        return new Manifest.Config(c.numLayers(), c.hiddenSize(), c.intermediateSize(), c.numHeads(), c.numKvHeads(), c.vocabSize(),
                c.maxPositions(), c.eps(), c.ropeTheta(), c.rotaryDims(), rope.style() == Rope.Style.INTERLEAVED ? "interleaved" : "half");
    }
}
