package io.basalt.parity;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * A content hash of a model that stays cheap for multi-gigabyte checkpoints: SHA-256 over, for each
 * file (the model file itself, or the regular files directly inside a model directory, by name),
 * its name and size, then the whole file if it is at most {@value #WHOLE_FILE} bytes (config,
 * tokenizer, small weights), else its first and last {@value #CHUNK} bytes and {@value #SAMPLES}
 * chunks of {@value #CHUNK} bytes at evenly spaced offsets. Paths and modification times are left
 * out, so the same files give the same hash on any machine. It detects a different checkpoint or a
 * changed header, not every flipped weight; that is what the comparison itself is for.
 */
public final class ModelFingerprint {
    static final int WHOLE_FILE = 4 << 20;
    static final int CHUNK = 64 << 10;
    static final int SAMPLES = 32;
    public static final String METHOD = "sha256 of each file's name, size and content (files > 4 MiB: first, last and 32 evenly "
            + "spaced 64 KiB chunks)";

    private ModelFingerprint() {}

    /** "sha256:" + hex digest. */
    public static String of(Path model) {
        MessageDigest sha = sha256();
        for (Path f : files(model)) {
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
                long size = ch.size();
                sha.update((f.getFileName() + "\0" + size + "\0").getBytes(StandardCharsets.UTF_8));
                if (size <= WHOLE_FILE) {
                    digest(sha, ch, 0, size);
                } else {
                    digest(sha, ch, 0, CHUNK);
                    for (int i = 1; i <= SAMPLES; i++) digest(sha, ch, (size - CHUNK) / (SAMPLES + 1) * i, CHUNK);
                    digest(sha, ch, size - CHUNK, CHUNK);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + f + " to fingerprint the model: " + e.getMessage(), e);
            }
        }
        return "sha256:" + HexFormat.of().formatHex(sha.digest());
    }

    private static List<Path> files(Path model) {
        if (!Files.isDirectory(model)) return List.of(model);
        try (Stream<Path> s = Files.list(model)) {
            return s.filter(Files::isRegularFile).sorted((a, b) -> a.getFileName().toString().compareTo(b.getFileName().toString())).toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + model + ": " + e.getMessage(), e);
        }
    }

    private static void digest(MessageDigest sha, FileChannel ch, long offset, long length) throws IOException {
        ByteBuffer b = ByteBuffer.allocate((int) Math.min(length, 1 << 20));
        long done = 0;
        while (done < length) {
            b.clear().limit((int) Math.min(b.capacity(), length - done));
            int n = ch.read(b, offset + done);
            if (n < 0) break;
            b.flip();
            sha.update(b);
            done += n;
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
