package io.basalt.backend.neuron;

import io.basalt.model.Checkpoint;
import io.basalt.model.layout.LlamaLayout;
import io.basalt.model.layout.ModelInfo;
import io.basalt.spi.Architecture;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * An opened package directory: the manifest read strictly, every NEFF present with its sha256 and a valid header
 * (checked in Java, so a damaged file is one clear error and never reaches libnrt), and — through
 * {@link #checkModel} — the checkpoint it is about to run with compared against the one it was compiled from.
 */
public record CompiledPackage(Path dir, Manifest manifest, Map<String, NeffHeader> headers) {

    public static CompiledPackage open(Path dir) {
        if (!Files.isDirectory(dir)) throw new PackageException(dir + ": not a directory (--compiled takes the package directory basalt neuron compile wrote)");
        Manifest m = ManifestReader.read(dir);
        Map<String, NeffHeader> headers = new LinkedHashMap<>();
        for (Manifest.Bucket b : m.buckets()) {
            Path neff = dir.resolve(b.neff());
            if (!Files.isRegularFile(neff)) {
                throw new PackageException(neff + ": missing (manifest.json names it for the " + b.tag() + " bucket batch " + b.batch()
                        + ", length " + b.length() + ", kv_length " + b.kvLength() + ")");
            }
            String sha = CheckpointFingerprint.sha256(neff);
            if (!sha.equals(b.sha256())) {
                throw new PackageException(neff + ": sha256 " + sha + " differs from manifest.json's " + b.sha256() + " (the file was changed or damaged after compiling)");
            }
            NeffHeader h = header(neff);
            if (m.target().equals("standin")) {
                // The stand-in's hash is the SHA-256 of the data; neuronx-cc's is its own and not checked here.
                byte[] data = readData(neff);
                String want = HexFormat.of().formatHex(CheckpointFingerprint.sha256(data));
                if (!want.equals(h.hashHex())) throw new PackageException(neff + ": damaged NEFF: the header hash does not match its data");
            }
            headers.put(b.neff(), h);
        }
        return new CompiledPackage(dir, m, Map.copyOf(headers));
    }

    static NeffHeader header(Path neff) {
        try (FileChannel ch = FileChannel.open(neff, StandardOpenOption.READ)) {
            ByteBuffer head = ByteBuffer.allocate(NeffHeader.SIZE);
            while (head.hasRemaining() && ch.read(head) > 0) { /* fill */ }
            head.flip();
            return NeffHeader.parse(neff.toString(), head, ch.size());
        } catch (IOException e) {
            throw new PackageException(neff + ": cannot read: " + e.getMessage(), e);
        }
    }

    private static byte[] readData(Path neff) {
        try {
            byte[] all = Files.readAllBytes(neff);
            return java.util.Arrays.copyOfRange(all, NeffHeader.SIZE, all.length);
        } catch (IOException e) {
            throw new PackageException(neff + ": cannot read: " + e.getMessage(), e);
        }
    }

    /**
     * Checks that {@code checkpoint} (opened from {@code model}) is the one the package was compiled from: llama, the
     * same files (names, sizes, sha256) and the same configuration. Returns its layout.
     */
    public LlamaLayout checkModel(Path model, Checkpoint checkpoint) {
        String where = dir.resolve(Manifest.FILE).toString();
        Architecture arch = ModelInfo.architectureOf(checkpoint);
        if (arch != Architecture.LLAMA) {
            throw new PackageException(model + ": the neuron backend runs llama only; this checkpoint is " + arch.name().toLowerCase(Locale.ROOT));
        }
        List<Manifest.FileEntry> compiled = manifest.checkpoint().files();
        List<Path> given = CheckpointFingerprint.paths(model);
        List<String> givenNames = given.stream().map(p -> p.getFileName().toString()).toList();
        List<String> compiledNames = compiled.stream().map(Manifest.FileEntry::name).toList();
        if (!givenNames.equals(compiledNames)) {
            throw new PackageException(where + ": compiled from " + String.join(", ", compiledNames) + ", given " + String.join(", ", givenNames)
                    + " (" + model + ")");
        }
        List<Manifest.FileEntry> actual = new ArrayList<>();
        for (int i = 0; i < given.size(); i++) {
            Manifest.FileEntry c = compiled.get(i);
            long size = CheckpointFingerprint.size(given.get(i));
            String sha = size == c.bytes() ? CheckpointFingerprint.sha256(given.get(i)) : "(not computed)";
            if (size != c.bytes() || !sha.equals(c.sha256())) {
                throw new PackageException(where + ": compiled from " + c.name() + " (" + c.bytes() + " bytes, sha256 " + c.sha256()
                        + "), given " + given.get(i) + " (" + size + " bytes, sha256 " + sha + ")");
            }
            actual.add(new Manifest.FileEntry(c.name(), size, sha));
        }
        LlamaLayout layout = LlamaLayout.of(checkpoint);
        Manifest.Config want = manifest.checkpoint().config();
        Manifest.Config got = CheckpointFingerprint.config(model, layout);
        if (!want.equals(got)) {
            throw new PackageException(where + ": checkpoint.config differs from " + model + "'s: " + differences(want, got));
        }
        for (Manifest.Bucket b : manifest.buckets()) {
            for (Manifest.Input in : b.inputs()) {
                if (in.checkpointKey() != null && !in.checkpointKey().equals(LlamaWeights.key(layout, in.kind()))) {
                    throw new PackageException(where + ": " + b.neff() + " input " + in.name() + " (" + in.kind() + ") reads checkpoint key '"
                            + in.checkpointKey() + "', the checkpoint's is '" + LlamaWeights.key(layout, in.kind()) + "'");
                }
            }
        }
        return layout;
    }

    /** "num_heads: compiled 8, given 4; …" for every field that differs. */
    private static String differences(Manifest.Config a, Manifest.Config b) {
        var comps = Manifest.Config.class.getRecordComponents();
        List<String> out = new ArrayList<>();
        for (var c : comps) {
            try {
                Object x = c.getAccessor().invoke(a);
                Object y = c.getAccessor().invoke(b);
                if (!x.equals(y)) out.add(snake(c.getName()) + ": compiled " + x + ", given " + y);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
        }
        return out.stream().collect(Collectors.joining("; "));
    }

    private static String snake(String camel) {
        String s = camel.replaceAll("([A-Z])", "_$1").toLowerCase(Locale.ROOT);
        return s.equals("rms_eps") ? "rms_eps" : s;
    }
}
