package io.basalt.backend.cpu.model;

import io.basalt.backend.cpu.kernels.PackedMatrix;
import io.basalt.backend.cpu.kernels.PackedWeightCache;
import io.basalt.model.Checkpoint;
import io.basalt.model.TensorInfo;
import io.basalt.model.layout.LoadOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Where packed weights are cached: {@code -Dbasalt.weight.cache=DIR|off}, else the environment
 * variable {@code BASALT_WEIGHT_CACHE}, else {@code weights/} under the download cache
 * ({@code BASALT_CACHE}, default {@code ~/.cache/basalt}). Models under {@link #MIN_BYTES} are not
 * cached: they pack in milliseconds, and test suites should not fill a cache directory.
 */
final class WeightCacheLocation {
    static final long MIN_BYTES = 256L << 20;

    private WeightCacheLocation() {}

    static PackedWeightCache cacheFor(Checkpoint checkpoint, LoadOptions options) {
        Path dir = directory();
        if (dir == null) return null;
        long bytes = 0;
        for (TensorInfo t : checkpoint.tensors().values()) bytes += t.data().byteSize();
        if (bytes < MIN_BYTES) return null;
        List<Path> files;
        try {
            files = checkpointFiles(checkpoint.path());
        } catch (IOException e) {
            return null;
        }
        return PackedWeightCache.open(dir, files, key(options), checkpoint.arena());
    }

    /** The packed-weight file a load of the model at path with these options maps, if there is one. */
    static Optional<Path> existingCacheFile(Path path, LoadOptions options) throws IOException {
        Path dir = directory();
        if (dir == null) return Optional.empty();
        Path file = PackedWeightCache.fileFor(dir, checkpointFiles(path), key(options));
        return Files.isRegularFile(file) ? Optional.of(file) : Optional.empty();
    }

    /** A checkpoint's files: the file itself, or the regular files of its directory, in name order. */
    static List<Path> checkpointFiles(Path path) throws IOException {
        try (Stream<Path> s = Files.isDirectory(path) ? Files.list(path) : Stream.of(path)) {
            return s.filter(Files::isRegularFile).sorted().toList();
        }
    }

    private static String key(LoadOptions options) {
        return options + "|" + PackedMatrix.layout();
    }

    static Path directory() {
        String setting = System.getProperty("basalt.weight.cache", System.getenv("BASALT_WEIGHT_CACHE"));
        if (setting != null && !setting.isBlank()) {
            return setting.equalsIgnoreCase("off") || setting.equalsIgnoreCase("none") ? null : Path.of(setting);
        }
        String cache = System.getenv("BASALT_CACHE");
        Path base = cache != null && !cache.isBlank() ? Path.of(cache) : Path.of(System.getProperty("user.home"), ".cache", "basalt");
        return base.resolve("weights");
    }
}
