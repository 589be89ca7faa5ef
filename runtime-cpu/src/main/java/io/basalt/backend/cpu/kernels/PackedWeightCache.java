package io.basalt.backend.cpu.kernels;

import io.basalt.model.DType;
import io.basalt.model.MappedFile;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * The packed float weights (and weights quantized at load) of one model load, kept in a file so the next load of the same
 * checkpoint with the same options maps them instead of repacking (a 1B-parameter model repacks in
 * seconds; mapping takes milliseconds and shares the page cache between processes).
 *
 * <p>A load asks for its matrices in a fixed order. On a miss every packed matrix is recorded and
 * {@link #commit()} writes them out (temporary name, then an atomic move, so a concurrent or
 * interrupted writer never leaves a half file). On a hit each request is served from the mapped
 * file after its name, dtype and shape are checked against the index; any mismatch or a damaged
 * file falls back to packing and rewrites the entry.
 *
 * <p>File: magic, version, entry count, then per entry (name, dtype, rows, cols, offset, bytes),
 * then the 64-byte-aligned packed data.
 */
public final class PackedWeightCache {
    private static final long MAGIC = 0x4B50544C41534142L; // "BASALTPK" little-endian
    private static final int VERSION = 3; // bump when the PackedMatrix layout changes
    private static final long CHUNK = 1L << 30;

    private record Entry(String name, DType dtype, int rows, int cols, long offset, long bytes) {}

    private final Path file;
    private final List<Entry> index;        // on a hit: the file's entries, in request order
    private final MemorySegment mapped;     // on a hit: the whole file
    private final List<Entry> recorded = new ArrayList<>();
    private final List<MemorySegment> recordedData = new ArrayList<>();
    private int next;
    private boolean miss;

    private PackedWeightCache(Path file, List<Entry> index, MemorySegment mapped) {
        this.file = file;
        this.index = index;
        this.mapped = mapped;
        this.miss = mapped == null;
    }

    /**
     * The cache entry for a checkpoint (identified by its files' paths, sizes and modification times)
     * loaded with the given options, or null when caching is off for it.
     */
    public static PackedWeightCache open(Path cacheDir, List<Path> checkpointFiles, String options) {
        return open(cacheDir, checkpointFiles, options, Arena.ofAuto());
    }

    /** As above, the file mapped into (and unmapped with) {@code arena}. */
    public static PackedWeightCache open(Path cacheDir, List<Path> checkpointFiles, String options, Arena arena) {
        if (cacheDir == null) return null;
        try {
            Path file = fileFor(cacheDir, checkpointFiles, options);
            removeAbandonedWrites(file);
            if (Files.isRegularFile(file)) {
                try {
                    return readIndex(file, arena);
                } catch (IOException | RuntimeException e) {
                    System.err.println("basalt: ignoring damaged weight cache " + file + " (" + e.getMessage() + "); repacking");
                }
            }
            return new PackedWeightCache(file, List.of(), null);
        } catch (IOException e) {
            return null; // an unreadable checkpoint fails later with a clear error; just do not cache
        }
    }

    /**
     * Deletes this entry's partial files ({@code <file>.tmp<pid>-<thread>}) whose writing process is gone: a JVM that
     * exits while its writer runs (System.exit does not wait) leaves gigabytes behind otherwise.
     */
    static void removeAbandonedWrites(Path file) {
        String prefix = file.getFileName() + ".tmp";
        try (var siblings = Files.list(file.getParent())) {
            for (Path p : (Iterable<Path>) siblings::iterator) {
                String name = p.getFileName().toString();
                if (!name.startsWith(prefix)) continue;
                int dash = name.indexOf('-', prefix.length());
                long pid;
                try {
                    pid = Long.parseLong(name.substring(prefix.length(), dash < 0 ? name.length() : dash));
                } catch (NumberFormatException e) {
                    continue; // not ours
                }
                if (ProcessHandle.of(pid).isEmpty()) Files.deleteIfExists(p);
            }
        } catch (IOException | RuntimeException e) {
            // no directory yet, or not listable: nothing to clean
        }
    }

    /** The cache file (which may not exist yet) for a checkpoint's files loaded with the given options. */
    public static Path fileFor(Path cacheDir, List<Path> checkpointFiles, String options) throws IOException {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        sha.update(("v" + VERSION + "|" + options).getBytes(StandardCharsets.UTF_8));
        for (Path p : checkpointFiles) {
            sha.update(("|" + p.toAbsolutePath().normalize() + "|" + Files.size(p) + "|"
                    + Files.getLastModifiedTime(p).toMillis()).getBytes(StandardCharsets.UTF_8));
        }
        return cacheDir.resolve(HexFormat.of().formatHex(sha.digest(), 0, 16) + ".packed");
    }

    private static PackedWeightCache readIndex(Path file, Arena arena) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            MemorySegment all = MappedFile.map(ch, arena); // a plain native view: see there
            // The index is small; a ByteBuffer cannot view a file over 2 GiB anyway.
            ByteBuffer b = all.asSlice(0, Math.min(all.byteSize(), 1L << 24)).asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
            if (b.getLong() != MAGIC || b.getInt() != VERSION) throw new IOException("not a version " + VERSION + " cache");
            int n = b.getInt();
            List<Entry> entries = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                byte[] name = new byte[b.getShort() & 0xFFFF];
                b.get(name);
                Entry e = new Entry(new String(name, StandardCharsets.UTF_8), DType.values()[b.getInt()], b.getInt(), b.getInt(),
                        b.getLong(), b.getLong());
                if (e.offset() < 0 || e.bytes() < 0 || e.offset() + e.bytes() > all.byteSize()) throw new IOException("entry past end");
                entries.add(e);
            }
            return new PackedWeightCache(file, entries, all);
        } catch (java.nio.BufferUnderflowException e) {
            throw new IOException("index cut short", e); // the exception itself says nothing
        }
    }

    /** The next matrix of a cached load if it is this one (name, dtype, shape), else null: pack it and {@link #record} it. */
    public PackedMatrix lookup(String name, DType dtype, int rows, int cols) {
        MemorySegment data = lookupBytes(name, dtype, rows, cols, PackedMatrix.packedBytes(dtype, rows, cols));
        return data == null ? null : PackedMatrix.ofPacked(data, dtype, rows, cols);
    }

    /**
     * The next matrix's stored bytes if it is this one (e.g. a Q8_0 matrix quantized at an earlier
     * load: quantizing a 1B model takes seconds, mapping it none), else null: build it and
     * {@link #recordBytes} it.
     */
    public MemorySegment lookupBytes(String name, DType dtype, int rows, int cols, long bytes) {
        if (!miss && next < index.size()) {
            Entry e = index.get(next);
            if (e.name().equals(name) && e.dtype() == dtype && e.rows() == rows && e.cols() == cols && e.bytes() == bytes) {
                next++;
                return mapped.asSlice(e.offset(), e.bytes());
            }
        }
        miss = true; // from here on (or from the start) this load rebuilds everything and rewrites the file
        return null;
    }

    /** Adds a matrix's stored bytes built by this load (converted or quantized), to be written by {@link #commit()}. */
    public void recordBytes(String name, DType dtype, int rows, int cols, MemorySegment data) {
        recorded.add(new Entry(name, dtype, rows, cols, 0, data.byteSize()));
        recordedData.add(data);
    }

    /** Adds a matrix packed by this load, to be written by {@link #commit()}. */
    public PackedMatrix record(String name, PackedMatrix m) {
        recordBytes(name, m.dtype(), m.rows(), m.cols(), m.packedData());
        return m;
    }

    /** Whether this load was served from the file (nothing to write). */
    public boolean hit() { return !miss && next == index.size(); }

    public Path file() { return file; }

    /**
     * After a load that repacked: writes every packed matrix of this load to the cache file. A failure
     * to write (read-only or full disk) is reported and otherwise ignored: the model is already loaded.
     *
     * @return whether a file was written
     */
    public boolean commit() {
        if (hit() || recorded.isEmpty() && next == 0) return false; // nothing packed (all block-quantized): nothing to keep
        if (next > 0) {
            // A partial hit (the loader asked for something else than the file holds): the matrices served
            // from the file were not recorded, so drop the stale file and let the next load rewrite it whole.
            try { Files.deleteIfExists(file); } catch (IOException ignored) { }
            return false;
        }
        // Unique per writer: two loads of one model in a JVM may write at once (each then moves a whole file in).
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp" + ProcessHandle.current().pid() + "-" + Thread.currentThread().threadId());
        try {
            Files.createDirectories(file.getParent());
            long offset = align(header().remaining());
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                    StandardOpenOption.WRITE)) {
                List<Entry> placed = new ArrayList<>();
                for (Entry e : recorded) {
                    placed.add(new Entry(e.name(), e.dtype(), e.rows(), e.cols(), offset, e.bytes()));
                    offset = align(offset + e.bytes());
                }
                recorded.clear();
                recorded.addAll(placed);
                ByteBuffer h = header(); // now with the offsets
                while (h.hasRemaining()) ch.write(h);
                for (int i = 0; i < placed.size(); i++) {
                    MemorySegment data = recordedData.get(i);
                    long pos = placed.get(i).offset();
                    for (long from = 0; from < data.byteSize(); from += CHUNK) { // ByteBuffers stop at 2 GiB
                        ByteBuffer chunk = data.asSlice(from, Math.min(CHUNK, data.byteSize() - from)).asByteBuffer();
                        while (chunk.hasRemaining()) pos += ch.write(chunk, pos);
                    }
                }
                ch.force(true); // on disk before the rename publishes it: a crash never leaves a torn file under the final name
            }
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return true;
        } catch (IOException | RuntimeException e) {   // RuntimeException: e.g. the weights' memory was freed meanwhile
            System.err.println("basalt: could not write the weight cache " + file + ": " + e.getMessage());
            try { Files.deleteIfExists(tmp); } catch (IOException ignored) { }
            return false;
        }
    }

    private ByteBuffer header() {
        int size = 16;
        for (Entry e : recorded) size += 2 + e.name().getBytes(StandardCharsets.UTF_8).length + 12 + 16;
        ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(MAGIC).putInt(VERSION).putInt(recorded.size());
        for (Entry e : recorded) {
            byte[] name = e.name().getBytes(StandardCharsets.UTF_8);
            b.putShort((short) name.length).put(name).putInt(e.dtype().ordinal()).putInt(e.rows()).putInt(e.cols())
                    .putLong(e.offset()).putLong(e.bytes());
        }
        return b.flip();
    }

    private static long align(long offset) { return (offset + 63) & ~63L; }
}
