package io.basalt.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * Reads files through once so their pages are in the OS page cache. The benchmark does this for a
 * model's mapped files before its child JVM starts: on a host that drops idle file pages (the 2-core
 * build VM does within minutes, with most of its memory free) the first token otherwise includes
 * reading gigabytes from disk (1B bf16: 7.2 s from a dropped cache vs 2.4 s warm), which measures the
 * disk, not the runtime.
 */
final class PageCache {
    private PageCache() {}

    /** Reads every file to its end; returns the bytes read. */
    static long warm(List<Path> files) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocateDirect(8 << 20);
        long total = 0;
        for (Path file : files) {
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                for (int n; (n = ch.read(buffer.clear())) >= 0; ) total += n;
            }
        }
        return total;
    }
}
